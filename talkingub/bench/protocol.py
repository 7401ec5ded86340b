"""Benchmark protocol: one typed YAML (shipped: `talkingub/presets/protocols/*.yaml`; or a
user file) fixes the methods, the model config variant, the schedule, the seeds, the data
augmentations and the evaluation lists and metrics, so every method is trained and scored the
same way. Unknown keys are rejected (`talkingub.config.from_dict`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

from talkingub.bench.references import DEFAULT_REFERENCES, check_references
from talkingub.config import from_dict, load_yaml
from talkingub.errors import ConfigError
from talkingub.presets import preset_names, preset_path

# The methods a protocol runs unless it names others (also the demo's and the tiny bench's).
DEFAULT_METHODS = ("ptus", "fomm", "mraa")

LRSchedule = Literal["milestones", "constant", "cosine"]
LR_SCHEDULES = ("milestones", "constant", "cosine")  # the values of LRSchedule


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
    # The LR over the run (talkingub.bench.optim.build_schedulers), each group from its
    # optimiser's own lr: "milestones": the model config's epoch milestones mapped onto
    # `steps` (in a run shorter than the model's own schedule none falls before 80% of
    # `steps`); "constant": the model's lr throughout; "cosine": cosine annealing to 0 at
    # `steps`. `warmup_steps` (constant / cosine only): linear ramp, step i of the warm-up
    # at (i + 1) / (warmup_steps + 1) of the lr; cut to steps - 1 in a shorter run.
    lr_schedule: LRSchedule = "milestones"
    warmup_steps: int = 0
    lr_milestones: bool = True  # "milestones" only; false: no milestones, a constant lr
    num_workers: int = 0
    deterministic: bool = False  # torch.use_deterministic_algorithms + single thread

    def __post_init__(self) -> None:
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"schedule: lr_schedule must be one of {list(LR_SCHEDULES)}")
        if self.warmup_steps < 0:
            raise ConfigError("schedule: warmup_steps must be >= 0")
        if self.warmup_steps and self.lr_schedule == "milestones":
            raise ConfigError(
                "schedule: warmup_steps needs lr_schedule: cosine or constant "
                "(the milestones schedule keeps the model's own lr from step 0)"
            )


# The evaluation lists a protocol may select (`evaluation.lists`; talkingub.bench.lists).
EVAL_LISTS = ("same", "cross", "far_pairs")


@dataclasses.dataclass(frozen=True)
class FarPairsConfig:
    """The `far_pairs` list: source and driving frames at least `min_gap_s` apart, both in
    the held-back tail of a training clip (talkingub.bench.holdout)."""

    min_gap_s: float = 2.0
    sources_per_clip: int = 4  # source frames drawn per held-back clip tail
    max_driving: int | None = 8  # driving frames per source (None: every far enough frame)

    def __post_init__(self) -> None:
        if self.min_gap_s < 0 or self.sources_per_clip < 1:
            raise ValueError("far_pairs: min_gap_s >= 0 and sources_per_clip >= 1")
        if self.max_driving is not None and self.max_driving < 1:
            raise ValueError("far_pairs: max_driving >= 1 (or null)")


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
    lists: tuple[str, ...] = ("same", "cross")  # of EVAL_LISTS
    far_pairs: FarPairsConfig = dataclasses.field(default_factory=FarPairsConfig)
    # reference rows (talkingub.bench.references) scored beside the methods; () turns them off
    references: tuple[str, ...] = DEFAULT_REFERENCES

    def __post_init__(self) -> None:
        unknown = [n for n in self.lists if n not in EVAL_LISTS]
        if unknown:
            raise ValueError(f"lists: unknown {unknown[0]!r} (choose from {', '.join(EVAL_LISTS)})")
        check_references(self.references)


@dataclasses.dataclass(frozen=True)
class PersonSpecificConfig:
    """The person-specific track (talkingub.bench.person_specific: one model per person):
    its training frames keep at least `gap_s` seconds from every frame the lists score."""

    gap_s: float = 0.5

    def __post_init__(self) -> None:
        if self.gap_s < 0:
            raise ValueError("person_specific: gap_s must be >= 0")


@dataclasses.dataclass(frozen=True)
class Protocol:
    name: str = "custom"
    variant: str = "tiny"  # model config variant: tiny | paper | a YAML path
    methods: tuple[str, ...] = DEFAULT_METHODS
    seeds: tuple[int, ...] = (0,)
    schedule: ScheduleConfig = dataclasses.field(default_factory=ScheduleConfig)
    augment: AugmentConfig = dataclasses.field(default_factory=AugmentConfig)
    # method -> AugmentConfig keys that differ from `augment`
    method_augment: dict[str, Any] = dataclasses.field(default_factory=dict)
    evaluation: EvalConfig = dataclasses.field(default_factory=EvalConfig)
    # Train without the loss terms that need pretrained teachers (VGG-19 perceptual, Hopenet
    # head pose) instead of refusing when their weights are absent (talkingub.bench.pretrained)
    without_pretrained_losses: bool = False
    person_specific: PersonSpecificConfig = dataclasses.field(default_factory=PersonSpecificConfig)
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
