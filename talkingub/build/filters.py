"""Decisions from recorded scores: frame gates, runs of passing frames, one clip per run.

Nothing here measures pixels: every input is a raw score stored in the manifests, so
`talkingub refilter` re-runs exactly this with other thresholds.

Frame reasons: `no_face`, `multiple_people`, `no_face_landmarks`, `face_ratio_low`,
`face_ratio_high`, `blurry`. Clip reasons: `too_short`, `background_moving`,
`crop_out_of_frame`, `person_leaves_crop`, `unstable_person`, `upscale_needed`.
"""

from __future__ import annotations

import collections
import dataclasses
import statistics
from typing import Any

from talkingub.build.config import CropConfig, FilterConfig
from talkingub.build.crop import CropBox, plan_crop
from talkingub.build.types import FrameMeasure, Sequence


@dataclasses.dataclass
class ClipPlan:
    clip_id: str
    video_id: str
    shot: int
    start: int
    end: int  # exclusive
    fps: float
    status: str  # kept | rejected
    reason: str | None
    detail: str
    crop: CropBox | None
    frames: list[FrameMeasure]
    scores: dict[str, Any]

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / self.fps


def frame_reason(m: FrameMeasure, f: FilterConfig) -> str | None:
    if m.n_faces == 0:
        return "no_face"
    if max(m.n_faces, m.n_person_regions) > f.max_people:
        return "multiple_people"
    if m.face_ratio is None:
        return "no_face_landmarks"
    if m.face_ratio < f.face_ratio_min:
        return "face_ratio_low"
    if m.face_ratio > f.face_ratio_max:
        return "face_ratio_high"
    if m.sharpness is None or m.sharpness < f.min_sharpness:
        return "blurry"
    return None


def plan_clips(
    seq: Sequence, size: tuple[int, int], f: FilterConfig, c: CropConfig
) -> list[ClipPlan]:
    """Every sequence yields at least one ClipPlan (kept, or rejected with a reason)."""
    reasons = [frame_reason(m, f) for m in seq.frames]
    runs = _runs(reasons)
    if not runs:
        return [_rejected_sequence(seq, reasons)]
    return [_plan_run(seq, k, a, b, size, f, c) for k, (a, b) in enumerate(runs)]


def _runs(reasons: list[str | None]) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, reason in enumerate([*reasons, "end"]):
        if reason is None and start is None:
            start = i
        elif reason is not None and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _rejected_sequence(seq: Sequence, reasons: list[str | None]) -> ClipPlan:
    counts = collections.Counter(r for r in reasons if r)
    reason = counts.most_common(1)[0][0] if counts else "no_frames"
    detail = ", ".join(f"{k}: {v}" for k, v in counts.most_common()) or "no analysed frame"
    return ClipPlan(
        f"{seq.video_id}-s{seq.shot:03d}-f{seq.start:06d}",
        seq.video_id,
        seq.shot,
        seq.start,
        seq.end,
        seq.fps,
        "rejected",
        reason,
        detail,
        None,
        seq.frames,
        {**_scores(seq.frames, None), "shot_cut": seq.shot_score},
    )


def _plan_run(
    seq: Sequence, k: int, a: int, b: int, size: tuple[int, int], f: FilterConfig, c: CropConfig
) -> ClipPlan:
    frames = seq.frames[a:b]
    start = frames[0].index
    end = seq.frames[b].index if b < len(seq.frames) else seq.end
    crop, crop_reason = plan_crop(frames, size, c, f)
    clip = ClipPlan(
        f"{seq.video_id}-s{seq.shot:03d}-f{start:06d}",
        seq.video_id,
        seq.shot,
        start,
        end,
        seq.fps,
        "kept",
        None,
        "",
        crop,
        frames,
        {**_scores(frames, crop), "shot_cut": seq.shot_score},
    )
    reason = _clip_reason(clip, f, crop_reason)
    if reason is not None:
        clip.status, clip.reason, clip.detail = "rejected", reason[0], reason[1]
    return clip


def _clip_reason(
    clip: ClipPlan, f: FilterConfig, crop_reason: tuple[str, str] | None
) -> tuple[str, str] | None:
    s = clip.scores
    if clip.seconds < f.min_seconds:
        return "too_short", f"{clip.seconds:.2f} s < {f.min_seconds} s"
    if s["bg_drift_max"] is not None and s["bg_drift_max"] > f.bg_max_drift:
        return "background_moving", f"drift {s['bg_drift_max']:.1f} > {f.bg_max_drift}"
    if s["bg_step_max"] is not None and s["bg_step_max"] > f.bg_max_step:
        return "background_moving", f"step {s['bg_step_max']:.1f} > {f.bg_max_step}"
    return crop_reason


def _scores(frames: list[FrameMeasure], crop: CropBox | None) -> dict[str, Any]:
    def stat(values: list[float | None], fn: Any) -> float | None:
        present = [v for v in values if v is not None]
        return float(fn(present)) if present else None

    ratios = [m.face_ratio for m in frames]
    return {
        "n_analysed": len(frames),
        "face_ratio_median": stat(ratios, statistics.median),
        "face_ratio_min": stat(ratios, min),
        "face_ratio_max": stat(ratios, max),
        "sharpness_median": stat([m.sharpness for m in frames], statistics.median),
        "bg_step_max": stat([m.bg_step for m in frames], max),
        "bg_drift_max": stat([m.bg_drift for m in frames], max),
        "crop_side": crop.side if crop else None,
        "crop_jitter": crop.jitter if crop else None,
    }
