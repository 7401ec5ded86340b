"""Crop geometry: one static square box per clip, so the background stays still in it.

The person's **upper-body box** on an analysed frame spans the head top to the body bottom
vertically and the shoulders (or the torso columns) and the face horizontally. A clip's crop
holds the *union* of those boxes over the clip (as FOMM's video-preprocessing keeps a
person's whole tube in one box):

- side = the union's larger dimension x (1 + 2 x margin), limited by the frame;
- centred horizontally on the union, `margin` x side above its top, then shifted (never scaled)
  to stay inside the frame.

`fits` tells whether a union fits its box horizontally with the head top inside (only the
bottom may be cut, when the frame is too narrow for the whole upper body: a portrait video).
`in_crop` re-measures what a crop shows of a frame (face ratio, torso below the shoulders);
`face_overhang` measures how much of the PTUS face box falls outside the crop. The face-centre
spread (`jitter`) is recorded only.

Nothing here keeps or drops a clip: every decision made from these numbers (splitting a run
where its union stops fitting, `person_leaves_crop`, `upscale_needed`, `face_outside_crop`,
the in-crop gates) lives in `talkingub.curate.filters`.
"""

from __future__ import annotations

import dataclasses

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


def measured_boxes(
    frames: list[FrameMeasure], size: tuple[int, int]
) -> list[tuple[FrameMeasure, Box]]:
    """The frames that have an upper-body box, each with its box (limited to the frame)."""
    return [(m, b) for m in frames if (b := upper_body_box(m, size)) is not None]


def crop_box(
    measured: list[tuple[FrameMeasure, Box]], size: tuple[int, int], margin: float
) -> CropBox:
    """The square crop holding the union of the measured boxes (at least one)."""
    u = union([b for _, b in measured])
    x0, y0, side = place(u, size, margin)
    centres = [(m.face_box[0] + m.face_box[2]) / 2 for m, _ in measured if m.face_box]
    return CropBox(x0, y0, side, (max(centres) - min(centres)) / side)


def in_crop(m: FrameMeasure, box: CropBox) -> tuple[float | None, float | None]:
    """Face ratio and torso extent of a frame as the crop shows it (its bottom may be cut)."""
    if m.face_height is None or m.head_top is None or m.body_bottom is None:
        return None, None
    bottom = min(m.body_bottom, box.bottom)
    ratio = m.face_height / max(bottom - max(m.head_top, box.y0), 1.0)
    torso = None if m.shoulder_y is None else (bottom - m.shoulder_y) / m.face_height
    return ratio, torso


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


def face_overhang(
    frames: list[FrameMeasure], crop: CropBox | None, face_scale: float
) -> tuple[float | None, int | None]:
    """Largest share of a frame's face box outside the crop, and that frame's index."""
    if crop is None:
        return None, None
    worst: tuple[float | None, int | None] = (None, None)
    for m in frames:
        if m.face_box is None:
            continue
        share = clip_face(face_crop(m.face_box, crop, face_scale))[1]
        if worst[0] is None or share > worst[0]:
            worst = (share, m.index)
    return worst
