"""Rows of clips.parquet and frames.parquet, and the shard samples, from decided clips (their
columns and keys: talkingub.manifest.schema)."""

from __future__ import annotations

import bisect
from pathlib import Path
from typing import Any

from talkingub.curate.config import BuildConfig
from talkingub.curate.crop import clip_face, face_crop
from talkingub.curate.filters import ClipPlan
from talkingub.curate.split import sample_test, sample_train
from talkingub.curate.types import FrameMeasure
from talkingub.curate.unit import VideoResult
from talkingub.manifest.schema import ShardSample


def clip_frames(plan: ClipPlan) -> int:
    return plan.end - plan.start


def sampled_indices(result: VideoResult, split: str, config: BuildConfig) -> dict[str, list[int]]:
    kept = [p for p in result.plans if p.status == "kept"]
    if split == "test":
        picks = sample_test([clip_frames(p) for p in kept], config.split.test_frames)
        return {p.clip_id: idx for p, idx in zip(kept, picks)}
    return {p.clip_id: sample_train(clip_frames(p), p.fps, config.split.train_fps) for p in kept}


def nearest_measure(plan: ClipPlan, source_frame: int) -> FrameMeasure:
    """The measured frame at or before `source_frame` (bridged gaps have no measurement)."""
    measured = [m for m in plan.frames if m.face_box is not None] or plan.frames
    indices = [m.index for m in measured]
    pos = bisect.bisect_right(indices, source_frame) - 1
    return measured[max(pos, 0)]


def face_track(plan: ClipPlan, scale: float) -> list[list[float] | None]:
    """Face crop box (normalised to the clip, unclipped) for every clip frame, interpolated
    linearly between analysed frames."""
    assert plan.crop is not None
    known = [(m.index, face_crop(m.face_box, plan.crop, scale)) for m in plan.frames if m.face_box]
    out: list[list[float] | None] = []
    for frame in range(plan.start, plan.end):
        out.append(_interpolate(known, frame))
    return out


def clipped_track(track: list[list[float] | None]) -> list[tuple[list[float], float] | None]:
    """Each face box clipped to the crop, with the share of it that was outside."""
    return [None if box is None else clip_face(box) for box in track]


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


def frame_records(
    plan: ClipPlan,
    picks: list[int],
    split: str,
    identity: str,
    size: tuple[int, int],
    faces: list[tuple[list[float], float] | None],
) -> list[dict[str, Any]]:
    """One row per analysed frame of the plan, and one per sampled output frame (`picks`,
    clip-frame offsets); a sampled frame that is also an analysed frame is one row."""
    rows: dict[int, dict[str, Any]] = {}
    for m, gate, bridged in zip(plan.frames, plan.gates, plan.bridged):
        kept = plan.status == "kept" and (gate is None or bridged)
        reason = None if kept else (gate or plan.reason)
        row = _frame_row(plan, m, split, identity, size, m.index, None, kept, reason, None)
        rows[m.index] = {**row, "analysed": True, "gate": gate, "bridged": bridged}
    not_analysed = {"analysed": False, "gate": None, "bridged": False}
    for i in picks:
        source = plan.start + i
        row = _frame_row(
            plan,
            nearest_measure(plan, source),
            split,
            identity,
            size,
            source,
            i,
            True,
            None,
            faces[i],
        )
        own = rows.get(source, not_analysed)
        rows[source] = {**row, **{k: own[k] for k in not_analysed}, "sampled": True}
    return [{"sampled": False, **rows[k]} for k in sorted(rows)]


def _frame_row(
    plan: ClipPlan,
    m: FrameMeasure,
    split: str,
    identity: str,
    size: tuple[int, int],
    source_frame: int,
    clip_frame: int | None,
    kept: bool,
    reason: str | None,
    face: tuple[list[float], float] | None,
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
        "status": "kept" if kept else "rejected",
        "reason": reason,
        "crop_box": [crop.x0, crop.y0, crop.side] if crop else None,
        "crop_box_norm": [crop.x0 / w, crop.y0 / h, crop.side / w, crop.side / h] if crop else None,
        "face_box_crop": face[0] if face else None,
        "face_box_overhang": face[1] if face else None,
        "face_box_source": list(m.face_box) if m.face_box else None,
        "face_score": m.face_score,
        "face_detector": m.face_detector,
        "face_ratio": m.face_ratio,
        "face_height": m.face_height,
        "upper_body_height": m.upper_body_height,
        "head_top": m.head_top,
        "head_margin": m.head_margin,
        "body_bottom": m.body_bottom,
        "body_censored": m.body_censored,
        "hips_visible": m.hips_visible,
        "shoulders_in_frame": m.shoulders_in_frame,
        "shoulder_y": m.shoulder_y,
        "torso_extent": m.torso_extent,
        "n_faces": m.n_faces,
        "n_faces_any": m.n_faces_any,
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
    faces: list[tuple[list[float], float] | None],
    config_hash: str,
) -> ShardSample:
    meta = {
        "clip_id": plan.clip_id,
        "video_id": plan.video_id,
        "identity": identity,
        "split": split,
        "fps": plan.fps,
        "n_frames": clip_frames(plan),
        "source_start": plan.start,
        "crop_box": plan.crop.as_list() if plan.crop else None,
        "sampled_frames": picks,
        "face_boxes": [f[0] if f else None for f in faces],
        "config_hash": config_hash,
    }
    return ShardSample(plan.clip_id, meta, path)
