"""Rows of clips.parquet and frames.parquet, and the shard samples, from decided clips."""

from __future__ import annotations

import bisect
from pathlib import Path
from typing import Any

from talkingub.build.config import BuildConfig
from talkingub.build.crop import face_crop
from talkingub.build.filters import ClipPlan, frame_reason
from talkingub.build.split import sample_test, sample_train
from talkingub.build.types import FrameMeasure
from talkingub.build.unit import VideoResult


def clip_frames(plan: ClipPlan) -> int:
    return plan.end - plan.start


def sampled_indices(result: VideoResult, split: str, config: BuildConfig) -> dict[str, list[int]]:
    kept = [p for p in result.plans if p.status == "kept"]
    if split == "test":
        picks = sample_test([clip_frames(p) for p in kept], config.split.test_frames)
        return {p.clip_id: idx for p, idx in zip(kept, picks)}
    return {p.clip_id: sample_train(clip_frames(p), p.fps, config.split.train_fps) for p in kept}


def nearest_measure(plan: ClipPlan, source_frame: int) -> FrameMeasure:
    indices = [m.index for m in plan.frames]
    pos = bisect.bisect_right(indices, source_frame) - 1
    return plan.frames[max(pos, 0)]


def face_track(plan: ClipPlan, scale: float) -> list[list[float] | None]:
    """Face crop box (normalised to the clip) for every clip frame, linearly interpolated."""
    assert plan.crop is not None
    known = [(m.index, face_crop(m.face_box, plan.crop, scale)) for m in plan.frames if m.face_box]
    out: list[list[float] | None] = []
    for frame in range(plan.start, plan.end):
        out.append(_interpolate(known, frame))
    return out


def _interpolate(known: list[tuple[int, list[float]]], frame: int) -> list[float] | None:
    if not known:
        return None
    indices = [k[0] for k in known]
    pos = bisect.bisect_right(indices, frame)
    if pos == 0:
        return known[0][1]
    if pos == len(known):
        return known[-1][1]
    (i0, a), (i1, b) = known[pos - 1], known[pos]
    t = (frame - i0) / (i1 - i0)
    return [round(x + t * (y - x), 4) for x, y in zip(a, b)]


def clip_record(
    plan: ClipPlan,
    identity: str,
    split: str,
    n_sampled: int,
    size: tuple[int, int],
    path: Path | None,
) -> dict[str, Any]:
    crop = plan.crop
    w, h = size
    return {
        "clip_id": plan.clip_id,
        "video_id": plan.video_id,
        "identity": identity,
        "split": split,
        "shot": plan.shot,
        "start": plan.start,
        "end": plan.end,
        "fps": plan.fps,
        "n_frames": clip_frames(plan),
        "seconds": plan.seconds,
        "status": plan.status,
        "reason": plan.reason,
        "detail": plan.detail or None,
        "crop_x0": crop.x0 if crop else None,
        "crop_y0": crop.y0 if crop else None,
        "crop_side": crop.side if crop else None,
        "crop_norm": [crop.x0 / w, crop.y0 / h, crop.side / w, crop.side / h] if crop else None,
        "n_sampled": n_sampled,
        "file": path.name if path else None,
        **{f"score_{k}": v for k, v in plan.scores.items()},
    }


def kept_frame_records(
    plan: ClipPlan,
    picks: list[int],
    split: str,
    identity: str,
    size: tuple[int, int],
    faces: list[list[float] | None],
) -> list[dict[str, Any]]:
    rows = []
    for i in picks:
        m = nearest_measure(plan, plan.start + i)
        rows.append(
            _frame_row(plan, m, split, identity, size, plan.start + i, i, "kept", None, faces[i])
        )
    return rows


def rejected_frame_records(
    plan: ClipPlan, split: str, identity: str, size: tuple[int, int], config: BuildConfig
) -> list[dict[str, Any]]:
    rows = []
    for m in plan.frames:
        reason = frame_reason(m, config.filters) or plan.reason
        rows.append(
            _frame_row(plan, m, split, identity, size, m.index, None, "rejected", reason, None)
        )
    return rows


def _frame_row(
    plan: ClipPlan,
    m: FrameMeasure,
    split: str,
    identity: str,
    size: tuple[int, int],
    source_frame: int,
    clip_frame: int | None,
    status: str,
    reason: str | None,
    face: list[float] | None,
) -> dict[str, Any]:
    crop = plan.crop
    w, h = size
    return {
        "video_id": plan.video_id,
        "clip_id": plan.clip_id,
        "identity": identity,
        "split": split,
        "source_frame": source_frame,
        "clip_frame": clip_frame,
        "time": source_frame / plan.fps,
        "measured_frame": m.index,
        "status": status,
        "reason": reason,
        "crop_box": [crop.x0, crop.y0, crop.side] if crop else None,
        "crop_box_norm": [crop.x0 / w, crop.y0 / h, crop.side / w, crop.side / h] if crop else None,
        "face_box_crop": face,
        "face_box_source": list(m.face_box) if m.face_box else None,
        "face_ratio": m.face_ratio,
        "face_height": m.face_height,
        "upper_body_height": m.upper_body_height,
        "head_top": m.head_top,
        "body_bottom": m.body_bottom,
        "hips_visible": m.hips_visible,
        "n_faces": m.n_faces,
        "n_person_regions": m.n_person_regions,
        "sharpness": m.sharpness,
        "person_area": m.person_area,
        "bg_step": m.bg_step,
        "bg_drift": m.bg_drift,
        "pose": m.pose,
    }


def shard_sample(
    plan: ClipPlan,
    identity: str,
    split: str,
    picks: list[int],
    path: Path,
    faces: list[list[float] | None],
    config_hash: str,
) -> dict[str, Any]:
    return {
        "__key__": plan.clip_id,
        "mp4": path,
        "json": {
            "clip_id": plan.clip_id,
            "video_id": plan.video_id,
            "identity": identity,
            "split": split,
            "fps": plan.fps,
            "n_frames": clip_frames(plan),
            "source_start": plan.start,
            "crop_box": plan.crop.as_list() if plan.crop else None,
            "sampled_frames": picks,
            "face_boxes": faces,
            "config_hash": config_hash,
        },
    }
