"""Evaluation of one trained method over the fixed lists.

Same identity: `reconstruct(source = first listed frame, driving = the listed frames)`,
scored against the driving frames (all frames, and without frame 0). Cross identity:
`animate(mode)` of a source frame of another person, scored for motion against the driving
frames and for identity against the source image (`aed`, `csim`), FID over the whole set.
Outputs: `videos/<task>/<item>.mp4` (optional PNG frames), `per_video.parquet` (one row per
video, task and metric), `summary.json` (list-wide values, ms/frame, parameter count).
Under torchrun the items are dealt round-robin to the processes; rows are gathered and the
list-wide metrics synchronised, so the numbers do not depend on the process count.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from talkingub.bench import distributed as D
from talkingub.bench.checkpoint import load_model_weights
from talkingub.bench.data import (
    BuildIndex,
    ClipStore,
    crop_faces,
    face_size_of,
    to_tensor,
    to_tensor_resized,
)
from talkingub.bench.lists import CrossItem, EvalLists, SameItem
from talkingub.bench.protocol import EvalConfig
from talkingub.bench.scoring import Scorer, Variant
from talkingub.bench.video import write_mp4, write_pngs
from talkingub.io.atomic import atomic_path, atomic_write_text
from talkingub.metrics.media import resize


@dataclasses.dataclass(frozen=True)
class EvalJob:
    method: str
    checkpoint: Path
    build_dir: Path
    out_dir: Path
    lists: EvalLists
    evaluation: EvalConfig
    seed: int = 0
    device: str = "auto"
    cross_mode: str = "relative"
    progress: bool = True

    def __post_init__(self) -> None:
        D.check_device(self.device)


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


def _evaluate(job: EvalJob, info: D.DistInfo) -> EvalResult:
    device = D.device_for(job.device, info)
    model, _ = load_model_weights(job.checkpoint, device)
    store = ClipStore(BuildIndex(job.build_dir))
    cfg = job.evaluation
    same = [Variant("same", cfg.same_metrics)]
    if cfg.exclude_first_frame:
        same.append(Variant("same_excl0", cfg.same_metrics, first_frame=1))
    scorers = {
        "same": Scorer(same, cfg),
        "cross": Scorer([Variant("cross", cfg.cross_metrics)], cfg),
    }
    timer = [0.0, 0]
    rows: list[dict[str, Any]] = []
    for i, item in enumerate(job.lists.same):
        if i % info.world == info.rank:
            rows += _run_same(job, model, store, scorers["same"], i, item, timer)
    for i, cross in enumerate(job.lists.cross if cfg.cross_metrics else ()):
        if i % info.world == info.rank:
            rows += _run_cross(job, model, store, scorers["cross"], i, cross)
    totals = scorers["same"].results() + scorers["cross"].results()
    gathered = D.gather_objects((rows, timer), info)
    return _write(job, info, model, gathered, totals)


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
    model: Any,
    store: ClipStore,
    scorer: Scorer,
    index: int,
    item: SameItem,
    timer: list[Any],
) -> list[dict[str, Any]]:
    frames = list(item.driving_frames)
    inputs = _inputs(model, store, item.clip_id, (item.clip_id, item.source_frame), frames)
    pred, seconds = _generate(model, inputs, "reconstruct")
    timer[0] += seconds
    timer[1] += len(frames)
    _save_video(job, "same", item.item, pred, store, item.clip_id)
    size = job.evaluation.size
    target = _at(store.frames(item.clip_id, frames), size)
    rows = scorer.score(index, _at(pred, size), {"driving": target})
    meta = {"item": item.item, "clip_id": item.clip_id, "identity": item.identity}
    return [{**meta, "source_identity": item.identity, **r} for r in rows]


def _run_cross(
    job: EvalJob, model: Any, store: ClipStore, scorer: Scorer, index: int, item: CrossItem
) -> list[dict[str, Any]]:
    frames = list(item.driving_frames)
    inputs = _inputs(model, store, item.clip_id, (item.source_clip, item.source_frame), frames)
    mode = job.cross_mode if job.cross_mode in model.animate_modes else model.animate_modes[0]
    pred, _ = _generate(model, inputs, mode)
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
    model: Any,
    gathered: list[tuple[list[dict[str, Any]], list[Any]]],
    totals: list[dict[str, Any]],
) -> EvalResult:
    seconds = sum(t[0] for _, t in gathered)
    frames = sum(t[1] for _, t in gathered)
    ms = 1000 * seconds / frames if frames else float("nan")
    params = count_parameters(model)
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
            "device": _device_name(model),
            "world": info.world,
            "totals": totals,
        }
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
