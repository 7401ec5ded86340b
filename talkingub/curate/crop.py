"""One static square crop per clip, chosen by coverage, so the background stays still in it.

The person's **upper-body box** on an analysed frame spans the head top to the body bottom
vertically and the shoulders (or the torso columns) and the face horizontally. A clip's crop
must hold the *union* of those boxes over the clip (as FOMM's video-preprocessing keeps a
person's whole tube in one box):

- side = the union's larger dimension x (1 + 2 x margin), limited by the frame;
- centred horizontally on the union, `margin` x side above its top, then shifted (never scaled)
  to stay inside the frame;
- the union must fit the box horizontally and its top (the head) must be inside it; only the
  bottom may be cut, when the frame is too narrow to hold the whole upper body (a portrait
  video). What the crop then shows is re-measured (`in_crop`): the face ratio and the torso
  below the shoulders within the crop must still pass the frame gates.

A run of frames whose union does not fit is split into the longest pieces that fit
(`split_by_fit`) instead of being dropped. The face-centre spread (`jitter`) is recorded only.
"""

from __future__ import annotations

import dataclasses

from talkingub.curate.config import CropConfig, FilterConfig
from talkingub.curate.types import FrameMeasure

Box = tuple[float, float, float, float]
TOLERANCE = 1.0  # pixels of rounding slack in every containment test


@dataclasses.dataclass(frozen=True)
class CropBox:
    x0: float
    y0: float
    side: float
    jitter: float  # range of the face centre across the clip / side (recorded, not a gate)

    def contains(self, box: Box) -> bool:
        return (
            box[0] >= self.x0 - TOLERANCE
            and box[1] >= self.y0 - TOLERANCE
            and box[2] <= self.x0 + self.side + TOLERANCE
            and box[3] <= self.y0 + self.side + TOLERANCE
        )

    @property
    def bottom(self) -> float:
        return self.y0 + self.side

    def as_list(self) -> list[float]:
        return [round(self.x0, 2), round(self.y0, 2), round(self.side, 2)]


def upper_body_box(m: FrameMeasure, size: tuple[int, int] | None = None) -> Box | None:
    """Head top to body bottom, shoulders/torso and face horizontally (None if unmeasured),
    limited to the frame when `size` is given: landmarks a few pixels past the frame's edge
    are the frame cutting the person, not the person leaving a crop."""
    if m.face_box is None or m.head_top is None or m.body_bottom is None:
        return None
    x0, x1 = m.body_x if m.body_x is not None else (m.face_box[0], m.face_box[2])
    box = min(x0, m.face_box[0]), m.head_top, max(x1, m.face_box[2]), m.body_bottom
    if size is None:
        return box
    w, h = size
    return max(box[0], 0.0), max(box[1], 0.0), min(box[2], float(w)), min(box[3], float(h))


def union(boxes: list[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def place(u: Box, size: tuple[int, int], margin: float) -> tuple[float, float, float]:
    """x0, y0, side of the square crop for the union box `u` in a frame of `size`."""
    width, height = size
    side = min(max(u[2] - u[0], u[3] - u[1]) * (1 + 2 * margin), width, height)
    x0 = _clamp((u[0] + u[2]) / 2 - side / 2, 0, width - side)
    y0 = _clamp(u[1] - margin * side, 0, height - side)
    return x0, y0, side


def fits(u: Box, size: tuple[int, int], margin: float) -> bool:
    """The union fits its crop horizontally and the head top is inside it."""
    x0, y0, side = place(u, size, margin)
    return u[0] >= x0 - TOLERANCE and u[2] <= x0 + side + TOLERANCE and u[1] >= y0 - TOLERANCE


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


def plan_crop(
    frames: list[FrameMeasure], size: tuple[int, int], c: CropConfig, f: FilterConfig
) -> tuple[CropBox | None, tuple[str, str] | None]:
    """The crop box of a clip, and the reason it cannot be used (or None)."""
    measured = [(m, b) for m in frames if (b := upper_body_box(m, size)) is not None]
    if not measured:
        return None, ("no_face_landmarks", "no measured frame")
    u = union([b for _, b in measured])
    x0, y0, side = place(u, size, c.margin)
    centres = [(m.face_box[0] + m.face_box[2]) / 2 for m, _ in measured if m.face_box]
    box = CropBox(x0, y0, side, (max(centres) - min(centres)) / side)
    return box, _crop_reason(box, measured, c, f)


def _crop_reason(
    box: CropBox, measured: list[tuple[FrameMeasure, Box]], c: CropConfig, f: FilterConfig
) -> tuple[str, str] | None:
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


def in_crop(m: FrameMeasure, box: CropBox) -> tuple[float | None, float | None]:
    """Face ratio and torso extent of a frame as the crop shows it (its bottom may be cut)."""
    if m.face_height is None or m.head_top is None or m.body_bottom is None:
        return None, None
    bottom = min(m.body_bottom, box.bottom)
    ratio = m.face_height / max(bottom - max(m.head_top, box.y0), 1.0)
    torso = None if m.shoulder_y is None else (bottom - m.shoulder_y) / m.face_height
    return ratio, torso


def in_crop_reason(m: FrameMeasure, box: CropBox, f: FilterConfig) -> tuple[str, str] | None:
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


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(value, high))


def face_crop(face_box: Box, crop: CropBox, scale: float) -> list[float]:
    """Square face box (PTUS's face branch) normalised to the clip crop: x0, y0, x1, y1.

    Not clipped: see `clip_face` for the clipped box and its overhang.
    """
    cx, cy = (face_box[0] + face_box[2]) / 2, (face_box[1] + face_box[3]) / 2
    half = scale * (face_box[3] - face_box[1]) / 2
    return [
        round((v - o) / crop.side, 4)
        for v, o in (
            (cx - half, crop.x0),
            (cy - half, crop.y0),
            (cx + half, crop.x0),
            (cy + half, crop.y0),
        )
    ]


def clip_face(box: list[float]) -> tuple[list[float], float]:
    """A normalised face box clipped to the crop [0, 1]^2, and the share of its area outside."""
    clipped = [min(max(v, 0.0), 1.0) for v in box]
    area = max(box[2] - box[0], 1e-9) * max(box[3] - box[1], 1e-9)
    inside = max(clipped[2] - clipped[0], 0.0) * max(clipped[3] - clipped[1], 0.0)
    return [round(v, 4) for v in clipped], round(1.0 - inside / area, 4)
