"""Every keep/drop decision of the build: source videos, frame gates, runs, clips and crops.

Nothing here measures pixels: every input is a raw score stored in the manifests (or a
video's recorded size and duration), so `talkingub refilter` re-runs exactly this with other
thresholds. The crop geometry these decisions read (boxes, fits, what a crop shows) is
computed in `talkingub.curate.crop`, which decides nothing.

`video_reason` refuses a source video before it is decoded (`too_long`, `too_large_frame`,
`bad_dimensions`).

`plan_clips` partitions a sequence's analysed frames into consecutive segments, each a
`ClipPlan`: runs of passing frames (a face-detection miss of up to `max_gap` analysed frames
inside a run is bridged) become candidate clips, split where the person's upper-body union no
longer fits one static crop (`split_by_fit`); the failing stretches between them are rejected
segments with their frames' most common reason. So every analysed frame belongs to exactly one
plan.

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

from talkingub.curate.config import BuildConfig, CropConfig, FilterConfig
from talkingub.curate.crop import (
    TOLERANCE,
    Box,
    CropBox,
    crop_box,
    face_overhang,
    fits,
    in_crop,
    measured_boxes,
    union,
    upper_body_box,
)
from talkingub.curate.types import FrameMeasure, Sequence, SourceVideo

# Gates that a detector miss fails (not a measurement): bridged when short and inside a run.
BRIDGEABLE = frozenset({"no_face", "no_face_landmarks"})
MIN_SIDE = 32  # smaller frames cannot hold a 256-px crop or a detectable face
MAX_ASPECT = 8  # wider/taller than 8:1 is a banner or a broken stream, not a talking video
Reason = tuple[str, str]  # reason code, human-readable detail


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


def video_reason(video: SourceVideo, config: BuildConfig) -> Reason | None:
    """Why a source video is refused before decoding (from its probed size and duration)."""
    if video.duration > config.max_duration:
        return "too_long", f"{video.duration:.0f} s > max_duration {config.max_duration:.0f} s"
    if video.width * video.height > config.max_pixels:
        return (
            "too_large_frame",
            f"{video.width}x{video.height} = {video.width * video.height} pixels > max_pixels "
            f"{config.max_pixels}: refused before decoding",
        )
    if min(video.width, video.height) < MIN_SIDE or max(
        video.width, video.height
    ) > MAX_ASPECT * min(video.width, video.height):
        return "bad_dimensions", f"{video.width}x{video.height} is not a usable frame size"
    return None


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


def split_by_fit(
    frames: list[FrameMeasure], size: tuple[int, int], margin: float
) -> list[tuple[int, int]]:
    """Consecutive pieces [a, b) of `frames`, each as long as its union still fits a crop.

    Frames without a measurement (bridged detection gaps) join the piece they fall in.
    """
    pieces, start, current = [], 0, None
    for i, m in enumerate(frames):
        box = upper_body_box(m, size)
        if box is None:
            continue
        grown = box if current is None else union([current, box])
        if current is not None and not fits(grown, size, margin):
            pieces.append((start, i))
            start, grown = i, box
        current = grown
    pieces.append((start, len(frames)))
    return pieces


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
    crop, crop_refused = plan_crop(frames, size, c, f)
    overhang = face_overhang(frames, crop, c.face_scale)
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
    reason = _clip_reason(clip, f, crop_refused, overhang)
    if reason is not None:
        clip.status, clip.reason, clip.detail = "rejected", reason[0], reason[1]
    return clip


def plan_crop(
    frames: list[FrameMeasure], size: tuple[int, int], c: CropConfig, f: FilterConfig
) -> tuple[CropBox | None, Reason | None]:
    """The crop box of a clip, and the reason it cannot be used (or None)."""
    measured = measured_boxes(frames, size)
    if not measured:
        return None, ("no_face_landmarks", "no measured frame")
    box = crop_box(measured, size, c.margin)
    return box, crop_reason(box, measured, c, f)


def crop_reason(
    box: CropBox, measured: list[tuple[FrameMeasure, Box]], c: CropConfig, f: FilterConfig
) -> Reason | None:
    """Why a clip's crop cannot be used: the person leaves it, what it shows of a frame fails
    a frame gate, or it would need upscaling (None when it can be used)."""
    for m, b in measured:
        if not box.contains((b[0], b[1], b[2], min(b[3], box.bottom))):
            return "person_leaves_crop", (
                f"frame {m.index}: upper body {_fmt(b)} leaves the crop {_fmt_crop(box)}"
            )
    for m, _ in measured:
        reason = in_crop_reason(m, box, f)
        if reason is not None:
            return reason
    needed = c.output_size / f.max_upscale
    if box.side < needed:
        return "upscale_needed", f"crop side {box.side:.0f} px < {needed:.0f} px"
    return None


def in_crop_reason(m: FrameMeasure, box: CropBox, f: FilterConfig) -> Reason | None:
    """A frame that passes in the source frame but not once the crop cuts the body."""
    if m.body_bottom is None or m.body_bottom <= box.bottom + TOLERANCE:
        return None
    ratio, torso = in_crop(m, box)
    where = f"frame {m.index} in the crop {_fmt_crop(box)}"
    if torso is not None and torso < f.min_torso:
        return "no_upper_body", f"{where}: torso {torso:.2f} face heights < {f.min_torso}"
    if ratio is not None and ratio > f.face_ratio_max:
        return "face_ratio_high", f"{where}: face ratio {ratio:.2f} > {f.face_ratio_max:.3f}"
    return None


def _fmt(b: Box) -> str:
    return "(" + ", ".join(f"{v:.0f}" for v in b) + ")"


def _fmt_crop(box: CropBox) -> str:
    return f"x {box.x0:.0f}-{box.x0 + box.side:.0f}, y {box.y0:.0f}-{box.bottom:.0f}"


def _clip_reason(
    clip: ClipPlan,
    f: FilterConfig,
    crop_refused: Reason | None,
    overhang: tuple[float | None, int | None],
) -> Reason | None:
    s = clip.scores
    if clip.seconds < f.min_seconds:
        return "too_short", f"{clip.seconds:.2f} s < {f.min_seconds} s"
    if s["bg_drift_max"] is not None and s["bg_drift_max"] > f.bg_max_drift:
        return "background_moving", f"drift {s['bg_drift_max']:.1f} > {f.bg_max_drift}"
    if s["bg_step_max"] is not None and s["bg_step_max"] > f.bg_max_step:
        return "background_moving", f"step {s['bg_step_max']:.1f} > {f.bg_max_step}"
    if crop_refused is not None:
        return crop_refused
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
