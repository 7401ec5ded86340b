"""Benchmark protocol: one typed YAML (shipped: `talkingub/presets/protocols/*.yaml`; or a
user file) fixes the methods, the model config variant, the schedule, the seeds, the data
augmentations and the evaluation lists and metrics, so every method is trained and scored the
same way. Unknown keys are rejected (`talkingub.config.from_dict`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

from talkingub.config import from_dict, load_yaml
from talkingub.errors import ConfigError
from talkingub.presets import preset_names, preset_path


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Per-pair augmentations (the same draw for source and driving of one pair)."""

    horizontal_flip: bool = True
    time_flip: bool = True  # swap source and driving
    brightness: float = 0.1
    contrast: float = 0.1
    saturation: float = 0.1
    hue: float = 0.1


@dataclasses.dataclass(frozen=True)
class ScheduleConfig:
    steps: int = 100
    batch_size: int | None = None  # None: the model config's optim.batch_size
    checkpoint_every: int = 50
    log_every: int = 10
    grad_clip: float = 0.0  # global L2 norm per optimiser group; 0 = off
    amp: bool = True  # autocast; on CUDA only, unless amp_on_cpu
    amp_dtype: Literal["bfloat16", "float16"] = "bfloat16"  # float16 adds a GradScaler
    channels_last: bool = True  # on CUDA only, unless channels_last_on_cpu
    # the CUDA speed paths on CPU as well (bfloat16 autocast pays on CPUs with AMX/AVX512-BF16;
    # the test suite uses them to run the AMP and channels-last code without a GPU)
    amp_on_cpu: bool = False
    channels_last_on_cpu: bool = False
    lr_milestones: bool = True  # model config milestones (epochs) mapped onto `steps`
    num_workers: int = 0
    deterministic: bool = False  # torch.use_deterministic_algorithms + single thread


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    same_metrics: tuple[str, ...] = ("l1", "akd", "aed", "fld")
    cross_metrics: tuple[str, ...] = ("fid",)
    cross_sources: int = 16  # PTUS: 16 source persons per test video (528 = 33 x 16)
    cross_source_splits: tuple[str, ...] = ("test",)
    max_frames: int | None = None  # per test video; None: every sampled frame (first 100)
    exclude_first_frame: bool = True  # also report the same-identity metrics without frame 0
    size: int = 256
    averaging: Literal["frame", "video"] = "frame"
    missing: Literal["skip", "penalise"] = "skip"
    on_missing_weights: Literal["raise", "na"] = "na"
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    write_png: bool = False
    grid_videos: int = 1  # qualitative grids (source | driving | each method)
    list_seed: int = 0
    batch: int = 8  # frames per generation / metric batch


@dataclasses.dataclass(frozen=True)
class Protocol:
    name: str = "custom"
    variant: str = "tiny"  # model config variant: tiny | paper | a YAML path
    methods: tuple[str, ...] = ("ptus", "fomm", "mraa")
    seeds: tuple[int, ...] = (0,)
    schedule: ScheduleConfig = dataclasses.field(default_factory=ScheduleConfig)
    augment: AugmentConfig = dataclasses.field(default_factory=AugmentConfig)
    # method -> AugmentConfig keys that differ from `augment`
    method_augment: dict[str, Any] = dataclasses.field(default_factory=dict)
    evaluation: EvalConfig = dataclasses.field(default_factory=EvalConfig)
    # Train without the loss terms that need pretrained teachers (VGG-19 perceptual, Hopenet
    # head pose) instead of refusing when their weights are absent (talkingub.bench.pretrained)
    without_pretrained_losses: bool = False
    sources: dict[str, Any] = dataclasses.field(default_factory=dict)  # citations

    def __post_init__(self) -> None:
        if not self.methods:
            raise ConfigError("protocol: methods must not be empty")
        if not self.seeds:
            raise ConfigError("protocol: seeds must not be empty")
        for method in self.method_augment:
            self.augment_for(method)  # validates keys and types now

    def augment_for(self, method: str) -> AugmentConfig:
        base = dataclasses.asdict(self.augment)
        base.update(self.method_augment.get(method) or {})
        return from_dict(AugmentConfig, base, where=f"method_augment.{method}")


def resolve_protocol_path(name_or_path: str | Path) -> Path:
    """A YAML path, or the name of a protocol shipped in the package (`tiny-cpu`, `paper-gpu`)."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        return path
    if str(name_or_path) not in preset_names("protocols"):
        have = ", ".join(preset_names("protocols"))
        raise ConfigError(f"no protocol {str(name_or_path)!r} (have: {have})")
    return preset_path("protocols", str(name_or_path))


def load_protocol(name_or_path: str | Path | Protocol, **overrides: Any) -> Protocol:
    """Protocol from a name/path; `overrides` replace top-level fields (e.g. methods=...)."""
    if isinstance(name_or_path, Protocol):
        protocol = name_or_path
    else:
        path = resolve_protocol_path(name_or_path)
        data = load_yaml(path)
        data.setdefault("name", path.stem)
        protocol = from_dict(Protocol, data, where="protocol")
    given = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(protocol, **given) if given else protocol


def with_schedule(protocol: Protocol, **changes: Any) -> Protocol:
    return dataclasses.replace(protocol, schedule=dataclasses.replace(protocol.schedule, **changes))
