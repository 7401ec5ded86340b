"""Decisions from recorded scores: frame gates, runs of passing frames, clips by crop coverage.

Nothing here measures pixels: every input is a raw score stored in the manifests, so
`talkingub refilter` re-runs exactly this with other thresholds.

`plan_clips` partitions a sequence's analysed frames into consecutive segments, each a
`ClipPlan`: runs of passing frames (a face-detection miss of up to `max_gap` analysed frames
inside a run is bridged) become candidate clips, split where the person's upper-body union no
longer fits one static crop; the failing stretches between them are rejected segments with
their frames' most common reason. So every analysed frame belongs to exactly one plan.

Frame reasons: `multiple_people`, `no_face`, `no_face_landmarks`, `no_upper_body`,
`face_ratio_low`, `face_ratio_high`, `blurry`. Clip reasons: `too_short`, `background_moving`,
`person_leaves_crop`, `no_upper_body` / `face_ratio_high` (as the crop shows the frame),
`face_outside_crop`, `upscale_needed`, and `multiple_people` for a crowded sequence.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import statistics
from typing import Any

from talkingub.curate.config import CropConfig, FilterConfig
from talkingub.curate.crop import CropBox, clip_face, face_crop, plan_crop, split_by_fit
from talkingub.curate.types import FrameMeasure, Sequence

# Gates that a detector miss fails (not a measurement): bridged when short and inside a run.
BRIDGEABLE = frozenset({"no_face", "no_face_landmarks"})


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
    gates: list[str | None]  # per frame: its own first failing gate
    bridged: list[bool]  # per frame: a detector-miss gap bridged inside the clip

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / self.fps


def people(m: FrameMeasure) -> int:
    return max(m.n_faces, m.n_faces_any, m.n_person_regions)


def frame_reason(m: FrameMeasure, f: FilterConfig) -> str | None:
    """The first gate an analysed frame fails, or None."""
    if people(m) > f.max_people:
        return "multiple_people"
    if m.n_faces == 0:
        return "no_face"
    if m.face_ratio is None:
        return "no_face_landmarks"
    if not m.shoulders_in_frame or m.torso_extent is None or m.torso_extent < f.min_torso:
        return "no_upper_body"
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
    """Consecutive segments covering every analysed frame of `seq` (at least one plan)."""
    gates = [frame_reason(m, f) for m in seq.frames]
    if not gates or crowded(gates, f):
        return [_rejected(seq, 0, len(gates), gates, force="multiple_people" if gates else None)]
    bridged = bridge(gates, f.max_gap)
    plans = []
    for a, b, ok in _stretches([g is None or br for g, br in zip(gates, bridged)]):
        if not ok:
            plans.append(_rejected(seq, a, b, gates))
            continue
        pieces = split_by_fit(seq.frames[a:b], size, c.margin)
        for pa, pb in pieces:
            plans.append(_plan_run(seq, a + pa, a + pb, gates, bridged, size, f, c, len(pieces)))
    return plans


def crowded(gates: list[str | None], f: FilterConfig) -> bool:
    many = sum(g == "multiple_people" for g in gates)
    return many > 0 and many >= f.multi_person_share * len(gates)


def bridge(gates: list[str | None], max_gap: int) -> list[bool]:
    """True for frames of a detector-miss gap of <= max_gap frames between passing frames."""
    out = [False] * len(gates)
    i = 0
    while i < len(gates):
        if gates[i] not in BRIDGEABLE:
            i += 1
            continue
        j = i
        while j < len(gates) and gates[j] in BRIDGEABLE:
            j += 1
        inside = i > 0 and j < len(gates) and gates[i - 1] is None and gates[j] is None
        if inside and j - i <= max_gap:
            out[i:j] = [True] * (j - i)
        i = j
    return out


def _stretches(ok: list[bool]) -> list[tuple[int, int, bool]]:
    out, start = [], 0
    for value, group in itertools.groupby(ok):
        n = len(list(group))
        out.append((start, start + n, value))
        start += n
    return out


def _bounds(seq: Sequence, a: int, b: int, from_start: bool) -> tuple[int, int]:
    start = seq.start if (a == 0 and from_start) else seq.frames[a].index
    end = seq.frames[b].index if b < len(seq.frames) else seq.end
    return start, end


def _clip_id(seq: Sequence, start: int) -> str:
    return f"{seq.video_id}-s{seq.shot:03d}-f{start:06d}"


def _rejected(
    seq: Sequence, a: int, b: int, gates: list[str | None], force: str | None = None
) -> ClipPlan:
    counts = collections.Counter(g for g in gates[a:b] if g)
    reason = force or (counts.most_common(1)[0][0] if counts else "no_frames")
    detail = ", ".join(f"{k}: {v}" for k, v in counts.most_common()) or "no analysed frame"
    start, end = _bounds(seq, a, b, from_start=True) if gates else (seq.start, seq.end)
    frames = seq.frames[a:b]
    return ClipPlan(
        _clip_id(seq, start),
        seq.video_id,
        seq.shot,
        start,
        end,
        seq.fps,
        "rejected",
        reason,
        detail,
        None,
        frames,
        {**_scores(frames, None), "shot_cut": seq.shot_score},
        gates[a:b],
        [False] * (b - a),
    )


def _plan_run(
    seq: Sequence,
    a: int,
    b: int,
    gates: list[str | None],
    bridged: list[bool],
    size: tuple[int, int],
    f: FilterConfig,
    c: CropConfig,
    pieces: int,
) -> ClipPlan:
    frames = seq.frames[a:b]
    start, end = _bounds(seq, a, b, from_start=False)
    crop, crop_reason = plan_crop(frames, size, c, f)
    overhang = _face_overhang(frames, crop, c)
    scores = {
        **_scores(frames, crop),
        "shot_cut": seq.shot_score,
        "n_bridged": sum(bridged[a:b]),
        "run_pieces": pieces,
        "face_overhang_max": overhang[0],
    }
    clip = ClipPlan(
        _clip_id(seq, start),
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
        scores,
        gates[a:b],
        bridged[a:b],
    )
    reason = _clip_reason(clip, f, crop_reason, overhang)
    if reason is not None:
        clip.status, clip.reason, clip.detail = "rejected", reason[0], reason[1]
    return clip


def _face_overhang(
    frames: list[FrameMeasure], crop: CropBox | None, c: CropConfig
) -> tuple[float | None, int | None]:
    """Largest share of a frame's face box outside the crop, and that frame's index."""
    if crop is None:
        return None, None
    worst: tuple[float | None, int | None] = (None, None)
    for m in frames:
        if m.face_box is None:
            continue
        share = clip_face(face_crop(m.face_box, crop, c.face_scale))[1]
        if worst[0] is None or share > worst[0]:
            worst = (share, m.index)
    return worst


def _clip_reason(
    clip: ClipPlan,
    f: FilterConfig,
    crop_reason: tuple[str, str] | None,
    overhang: tuple[float | None, int | None],
) -> tuple[str, str] | None:
    s = clip.scores
    if clip.seconds < f.min_seconds:
        return "too_short", f"{clip.seconds:.2f} s < {f.min_seconds} s"
    if s["bg_drift_max"] is not None and s["bg_drift_max"] > f.bg_max_drift:
        return "background_moving", f"drift {s['bg_drift_max']:.1f} > {f.bg_max_drift}"
    if s["bg_step_max"] is not None and s["bg_step_max"] > f.bg_max_step:
        return "background_moving", f"step {s['bg_step_max']:.1f} > {f.bg_max_step}"
    if crop_reason is not None:
        return crop_reason
    share, index = overhang
    if share is not None and share > f.max_face_overhang:
        return "face_outside_crop", (
            f"frame {index}: {share:.0%} of the face box is outside the crop "
            f"(> {f.max_face_overhang:.0%})"
        )
    return None


def _scores(frames: list[FrameMeasure], crop: CropBox | None) -> dict[str, Any]:
    def stat(values: list[float | None], fn: Any) -> float | None:
        present = [v for v in values if v is not None]
        return float(fn(present)) if present else None

    ratios = [m.face_ratio for m in frames]
    torsos = [m.torso_extent for m in frames]
    n = max(len(frames), 1)
    return {
        "n_analysed": len(frames),
        "face_ratio_median": stat(ratios, statistics.median),
        "face_ratio_min": stat(ratios, min),
        "face_ratio_max": stat(ratios, max),
        "torso_extent_median": stat(torsos, statistics.median),
        "torso_extent_min": stat(torsos, min),
        "shoulders_in_frame_share": sum(m.shoulders_in_frame for m in frames) / n,
        "body_censored_share": sum(m.body_censored for m in frames) / n,
        "face_score_median": stat(
            [m.face_score if m.n_faces else None for m in frames], statistics.median
        ),
        "sharpness_median": stat([m.sharpness for m in frames], statistics.median),
        "bg_step_max": stat([m.bg_step for m in frames], max),
        "bg_drift_max": stat([m.bg_drift for m in frames], max),
        "crop_side": crop.side if crop else None,
        "crop_jitter": crop.jitter if crop else None,
    }
