"""Evaluation of one trained method, one reference (`talkingub.bench.references`) or published
weights (`track` "zero-shot": `talkingub.bench.zero_shot`) over the fixed lists.

Same identity: `reconstruct(source = first listed frame, driving = the listed frames)`,
scored against the driving frames (all frames, and without frame 0). Cross identity:
`animate(mode)` of a source frame of another person, scored for motion against the driving
frames and for identity against the source image (`aed`, `csim`), FID over the whole set.
Far pairs (task `far`, when the protocol lists `far_pairs`): `reconstruct` of held-back
training-clip frames at least `min_gap_s` from their source, scored like same identity.
A reference (copy-source, copy-driving) takes the decoded frames instead of a model and goes
through the same resizing and scoring; it writes no videos (a grid's source and driving
columns are its outputs) and no timing.
Outputs: `videos/<task>/<item>.mp4` (optional PNG frames), `per_video.parquet` (one row per
video, task and metric), `summary.json` (list-wide values, ms/frame, parameter count, the
build evaluated on and the one the checkpoint was trained on: `talkingub.bench.build_ref`; a
checkpoint trained on another build is refused unless `allow_mixed_builds`; `track`: the
method's, one-shot / few-shot / person-specific, or zero-shot). A few-shot model also gets N
subject frames per item (`talkingub.bench.few_shot`, recorded under `few_shot`).
Under torchrun the items are dealt round-robin to the processes; rows are gathered and the
list-wide metrics synchronised, so the numbers do not depend on the process count.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from talkingub.bench import distributed as D
from talkingub.bench.build_ref import BuildRef, check_trained_on, optional_ref
from talkingub.bench.checkpoint import load_model_weights
from talkingub.bench.data import (
    BuildIndex,
    ClipStore,
    crop_faces,
    face_size_of,
    to_tensor,
    to_tensor_resized,
)
from talkingub.bench.few_shot_eval import FewShotInputs
from talkingub.bench.holdout import training_holdout
from talkingub.bench.lists import CrossItem, EvalLists, FarItem, SameItem
from talkingub.bench.protocol import EvalConfig
from talkingub.bench.references import Reference, get_reference, is_reference
from talkingub.bench.scoring import Scorer, Variant
from talkingub.bench.video import write_mp4, write_pngs
from talkingub.bench.zero_shot import refuse_trained, summary_record
from talkingub.errors import ConfigError
from talkingub.io.atomic import atomic_path, atomic_write_text
from talkingub.metrics.media import resize
from talkingub.progress import TaskBars


@dataclasses.dataclass(frozen=True)
class EvalJob:
    """`method`: a trained method (its `checkpoint`) or a registered reference (no
    checkpoint: None)."""

    method: str
    checkpoint: Path | None
    build_dir: Path
    out_dir: Path
    lists: EvalLists
    evaluation: EvalConfig
    seed: int = 0
    device: str = "auto"
    cross_mode: str = "relative"
    progress: bool = True
    inputs: str | None = None  # recorded in summary.json (the runner's reference cache key)
    build_ref: BuildRef | None = None  # the build evaluated on (None: read from build_dir)
    allow_mixed_builds: bool = False  # evaluate a checkpoint trained on another build
    track: str | None = None  # "zero-shot": published weights (talkingub.bench.zero_shot)
    # builds the trained generator instead of `_Model` (a person-specific method's model per
    # person: talkingub.bench.person_specific.PersonModels, `checkpoint` its persons.json)
    generator: Callable[[EvalJob, D.DistInfo], _Model] | None = None

    def __post_init__(self) -> None:
        D.check_device(self.device)
        if self.checkpoint is None and not is_reference(self.method):
            raise ConfigError(f"{self.method}: no checkpoint to evaluate")


@dataclasses.dataclass(frozen=True)
class EvalResult:
    method: str
    seed: int
    per_video: Path
    summary: Path
    ms_per_frame: float
    params: int


def count_parameters(model: Any) -> int:
    """Parameters used at inference: every optimiser group except the discriminator."""
    groups = model.parameter_groups()
    seen = {id(p): p for g, ps in groups.items() if g != "discriminator" for p in ps}
    return int(sum(p.numel() for p in seen.values()))


def evaluate(job: EvalJob) -> EvalResult:
    with D.session(job.device) as info, D.main_lock(job.out_dir, info, "evaluated"):
        return _evaluate(job, info)


def _log_events(job: EvalJob, info: D.DistInfo, gen: Generator) -> None:
    """The scores and sample images into the trained run's TensorBoard events, at the step
    its checkpoint was saved at: only for a bench training run (it has events), not for a
    checkpoint found elsewhere or published weights."""
    folder = job.checkpoint.parent if job.checkpoint and job.track is None else None
    if not info.main or folder is None or not (folder / "events").is_dir():
        return
    if not isinstance(gen, _Model) or gen.step is None:
        return
    from talkingub.bench.eval_events import log_evaluation

    log_evaluation(folder, gen.step, job.out_dir, job.build_dir, job.lists)


# task -> the protocol's name of its list (`evaluation.lists`)
TASK_LISTS = {"same": "same", "cross": "cross", "far": "far_pairs"}


class _Model:
    """A trained model: its own inputs (model resolution, face crops), timed on its device."""

    writes_videos = True

    def __init__(self, job: EvalJob, info: D.DistInfo) -> None:
        assert job.checkpoint is not None
        self.model, state = load_model_weights(job.checkpoint, D.device_for(job.device, info))
        self.step: int | None = int(state.get("step") or 0)  # the checkpoint's training step
        self.trained_on = optional_ref(state.get("build"), f"{job.checkpoint}: build")
        self.about = summary_record(state) if job.track else {}  # zero-shot: model, source
        if job.track is None:  # trained here: the method's track (talkingub.models.base)
            self.about = {"track": self.model.track}
        # a few-shot model's N subject frames per item (talkingub.bench.few_shot)
        holdout = training_holdout(job.evaluation.lists)
        self.few_shot = FewShotInputs.of(self.model, int(job.lists.params["seed"]), holdout)
        modes = self.model.animate_modes
        self.cross_mode = job.cross_mode if job.cross_mode in modes else modes[0]

    def generate(
        self, store: ClipStore, clip: str, source: tuple[str, int], frames: list[int], task: str
    ) -> tuple[np.ndarray, float]:
        inputs = _inputs(self.model, store, clip, source, frames)
        if self.few_shot is not None:
            inputs[2].update(self.few_shot.inputs(store, clip, source, frames))
        return _generate(self.model, inputs, self.cross_mode if task == "cross" else "reconstruct")

    def params(self) -> int:
        return count_parameters(self.model)

    def device_name(self) -> str:
        return _device_name(self.model)


class _Reference:
    """A reference row: its function of the decoded source frame and driving frames."""

    writes_videos = False

    def __init__(self, reference: Reference) -> None:
        self.reference = reference

    def generate(
        self, store: ClipStore, clip: str, source: tuple[str, int], frames: list[int], task: str
    ) -> tuple[np.ndarray, float]:
        image = store.frames(source[0], [source[1]])[0]
        return self.reference(image, store.frames(clip, frames)), 0.0

    def params(self) -> int:
        return 0

    def device_name(self) -> str:
        return "none"


Generator = _Model | _Reference


def _model(job: EvalJob, info: D.DistInfo) -> _Model:
    """The trained generator: one checkpoint, or what `job.generator` builds."""
    return job.generator(job, info) if job.generator is not None else _Model(job, info)


def _evaluate(job: EvalJob, info: D.DistInfo) -> EvalResult:
    gen: Generator = (
        _Reference(get_reference(job.method)) if is_reference(job.method) else _model(job, info)
    )
    build = _build_of(job, gen)
    store = ClipStore(BuildIndex(job.build_dir))
    cfg = job.evaluation
    same = [Variant("same", cfg.same_metrics)]
    if cfg.exclude_first_frame:
        same.append(Variant("same_excl0", cfg.same_metrics, first_frame=1))
    variants = {
        "same": same,
        "cross": [Variant("cross", cfg.cross_metrics)],
        "far": [Variant("far", cfg.same_metrics)],
    }
    work: dict[str, tuple[SameItem | CrossItem | FarItem, ...]] = {
        "same": job.lists.same,
        "cross": job.lists.cross if cfg.cross_metrics else (),
        "far": job.lists.far,
    }
    chosen = [t for t, name in TASK_LISTS.items() if name in cfg.lists]  # same on every rank
    scorers = {task: Scorer(variants[task], cfg) for task in chosen}
    timer = [0.0, 0]
    rows: list[dict[str, Any]] = []
    mine = [
        (t, i, item)
        for t in chosen
        for i, item in enumerate(work[t])
        if i % info.world == info.rank
    ]
    with _eval_bar(job, info, len(mine)) as item_done:
        for task, i, item in mine:
            if isinstance(item, CrossItem):
                rows += _run_cross(job, gen, store, scorers[task], i, item)
            else:  # same identity (timed) or far pairs
                clock = timer if task == "same" else None
                rows += _run_same(job, gen, store, scorers[task], i, item, clock, task)
            item_done(task)
    totals = [r for task in chosen for r in scorers[task].results()]
    gathered = D.gather_objects((rows, timer), info)
    result = _write(job, info, gen, gathered, totals, build)
    _log_events(job, info, gen)
    return result


@contextlib.contextmanager
def _eval_bar(job: EvalJob, info: D.DistInfo, items: int) -> Iterator[Callable[[str], None]]:
    """`item_done(task)` after each item: the evaluation's bar (the main process's items,
    with `job.progress`)."""
    name = job.method if is_reference(job.method) else f"{job.method} seed {job.seed}"
    name = f"{job.method} ({job.track})" if job.track else name
    with TaskBars(enabled=job.progress and info.main) as bars:
        bar = bars.add(f"eval {name}", items, unit="items")
        yield lambda task: bars.update(bar, advance=1, description=f"eval {name} ({task})")


def _build_of(job: EvalJob, gen: Generator) -> BuildRef:
    """The build evaluated on; a checkpoint trained on another one is refused
    (`MixedBuildsError`) unless `job.allow_mixed_builds`."""
    build = job.build_ref or BuildRef.from_build(job.build_dir)
    if isinstance(gen, _Model):
        if job.track is not None:  # published weights record no Talking-UB build
            refuse_trained(job.method, job.checkpoint, gen.trained_on)
        run = f"{job.method} seed {job.seed}"
        check_trained_on(run, gen.trained_on, build, job.allow_mixed_builds)
    return build


def _inputs(
    model: Any, store: ClipStore, clip: str, source: tuple[str, int], frames: list[int]
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """(source [1,3,s,s], driving [1,T,3,s,s], face crops + boxes) at the model resolution."""
    size, face = int(model.config.image_size), face_size_of(model.config)
    src_full = to_tensor(store.frames(source[0], [source[1]]))
    drv_full = to_tensor(store.frames(clip, frames))
    extra: dict[str, torch.Tensor] = {}
    if face:
        src_box = torch.from_numpy(store.face_boxes(source[0], [source[1]]))
        drv_box = torch.from_numpy(store.face_boxes(clip, frames))
        extra = {
            "source_face": crop_faces(src_full, src_box, face),
            "driving_face": crop_faces(drv_full, drv_box, face)[None],
            "source_face_box": src_box,
            "driving_face_box": drv_box[None],
        }
    return to_tensor_resized(src_full, size), to_tensor_resized(drv_full, size)[None], extra


def _generate(
    model: Any, inputs: tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]], mode: str
) -> tuple[np.ndarray, float]:
    """uint8 [T, s, s, 3] and seconds spent in the model."""
    device = next(model.parameters()).device
    source, driving, extra = inputs
    extra = {k: v.to(device) for k, v in extra.items()}
    amp = device.type == "cuda"
    _sync(device)
    start = time.perf_counter()
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
        if mode == "reconstruct":
            out = model.reconstruct(source.to(device), driving.to(device), **extra)
        else:
            out = model.animate(source.to(device), driving.to(device), mode=mode, **extra)
    _sync(device)
    seconds = time.perf_counter() - start
    frames = (out[0].float().clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1)
    return frames.cpu().numpy(), seconds


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _at(frames: np.ndarray, size: int) -> np.ndarray:
    return np.stack([resize(f, size) for f in frames])


def _run_same(
    job: EvalJob,
    gen: Generator,
    store: ClipStore,
    scorer: Scorer,
    index: int,
    item: SameItem | FarItem,
    timer: list[Any] | None,
    task: str = "same",
) -> list[dict[str, Any]]:
    """One same-person item (same identity; far pairs: task "far"), scored against the
    driving frames; `timer` (seconds, frames) adds the generation time."""
    frames = list(item.driving_frames)
    pred, seconds = gen.generate(
        store, item.clip_id, (item.clip_id, item.source_frame), frames, task
    )
    if timer is not None:
        timer[0] += seconds
        timer[1] += len(frames)
    if gen.writes_videos:
        _save_video(job, task, item.item, pred, store, item.clip_id)
    size = job.evaluation.size
    target = _at(store.frames(item.clip_id, frames), size)
    rows = scorer.score(index, _at(pred, size), {"driving": target})
    meta = {"item": item.item, "clip_id": item.clip_id, "identity": item.identity}
    return [{**meta, "source_identity": item.identity, **r} for r in rows]


def _run_cross(
    job: EvalJob, gen: Generator, store: ClipStore, scorer: Scorer, index: int, item: CrossItem
) -> list[dict[str, Any]]:
    frames = list(item.driving_frames)
    pred, _ = gen.generate(
        store, item.clip_id, (item.source_clip, item.source_frame), frames, "cross"
    )
    if gen.writes_videos:
        _save_video(job, "cross", item.item, pred, store, item.clip_id)
    size = job.evaluation.size
    source = _at(store.frames(item.source_clip, [item.source_frame]), size)
    refs = {
        "driving": _at(store.frames(item.clip_id, frames), size),
        "source": np.repeat(source, len(frames), axis=0),
    }
    rows = scorer.score(index, _at(pred, size), refs)
    meta = {"item": item.item, "clip_id": item.clip_id, "identity": item.identity}
    return [{**meta, "source_identity": item.source_identity, **r} for r in rows]


def _save_video(
    job: EvalJob, task: str, item: str, frames: np.ndarray, store: ClipStore, clip: str
) -> None:
    fps = float(store.index.clips[clip].meta.get("fps") or 25.0)
    write_mp4(job.out_dir / "videos" / task / f"{item}.mp4", frames, fps)
    if job.evaluation.write_png:
        write_pngs(job.out_dir / "frames" / task / item, frames)


def _write(
    job: EvalJob,
    info: D.DistInfo,
    gen: Generator,
    gathered: list[tuple[list[dict[str, Any]], list[Any]]],
    totals: list[dict[str, Any]],
    build: BuildRef | None = None,
) -> EvalResult:
    seconds = sum(t[0] for _, t in gathered)
    frames = sum(t[1] for _, t in gathered)
    timed = bool(frames) and isinstance(gen, _Model)
    ms = 1000 * seconds / frames if timed else float("nan")
    params = gen.params()
    per_video, summary = job.out_dir / "per_video.parquet", job.out_dir / "summary.json"
    if info.main:
        import pandas as pd

        rows = [r for part, _ in gathered for r in part]
        table = pd.DataFrame(rows).assign(method=job.method, seed=job.seed)
        table = table.sort_values(["task", "item", "metric"], kind="stable").reset_index(drop=True)
        with atomic_path(per_video) as tmp:
            table.to_parquet(tmp, index=False)
        payload = {
            "method": job.method,
            "seed": job.seed,
            "ms_per_frame": ms,
            "params": params,
            "device": gen.device_name(),
            "world": info.world,
            "totals": totals,
        }
        if isinstance(gen, _Reference):
            payload.update(reference=True, description=gen.reference.description)
        if job.inputs is not None:
            payload["inputs"] = job.inputs
        if build is not None:  # the build evaluated on, and the one trained on (None: unknown)
            payload["build"] = build.to_dict()
        if isinstance(gen, _Model):
            payload["trained_on"] = gen.trained_on.to_dict() if gen.trained_on else None
            payload.update(gen.about)
            if gen.few_shot is not None:
                payload["few_shot"] = gen.few_shot.record(job.lists, job.evaluation.lists)
        atomic_write_text(summary, json.dumps(_finite(payload), indent=2) + "\n")
    D.barrier(info)
    return EvalResult(job.method, job.seed, per_video, summary, ms, params)


def _device_name(model: Any) -> str:
    device = next(model.parameters()).device
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
