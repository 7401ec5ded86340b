"""One stable square crop per clip, so the background stays still inside it.

The box must hold the upper body of every analysed frame: side = the largest upper-body
height x (1 + 2 x margin), limited by the frame; horizontally centred on the median face
centre, vertically starting `margin` x side above the highest head top, then shifted (not scaled)
to stay inside the frame.
"""

from __future__ import annotations

import dataclasses
import statistics

from talkingub.build.config import CropConfig, FilterConfig
from talkingub.build.types import FrameMeasure


@dataclasses.dataclass(frozen=True)
class CropBox:
    x0: float
    y0: float
    side: float
    jitter: float  # spread of the face centre across the clip / side

    def contains(self, box: tuple[float, float, float, float]) -> bool:
        return (
            box[0] >= self.x0 - 1
            and box[1] >= self.y0 - 1
            and box[2] <= self.x0 + self.side + 1
            and box[3] <= self.y0 + self.side + 1
        )

    def as_list(self) -> list[float]:
        return [round(self.x0, 2), round(self.y0, 2), round(self.side, 2)]


def plan_crop(
    frames: list[FrameMeasure], size: tuple[int, int], c: CropConfig, f: FilterConfig
) -> tuple[CropBox | None, tuple[str, str] | None]:
    """The crop box, and the reason it cannot be used (or None)."""
    width, height = size
    boxes = [m.face_box for m in frames if m.face_box is not None]
    tops = [m.head_top for m in frames if m.head_top is not None]
    heights = [m.upper_body_height for m in frames if m.upper_body_height is not None]
    if not boxes or not tops or not heights:
        return None, ("no_face_landmarks", "no measured frame")
    ub = max(heights)
    side = min(ub * (1 + 2 * c.margin), width, height)
    centres = [(b[0] + b[2]) / 2 for b in boxes]
    x0 = _clamp(statistics.median(centres) - side / 2, 0, width - side)
    y0 = _clamp(min(tops) - c.margin * side, 0, height - side)
    box = CropBox(x0, y0, side, (max(centres) - min(centres)) / side)
    return box, _crop_reason(box, boxes, c, f)


def _crop_reason(
    box: CropBox, faces: list[tuple[float, float, float, float]], c: CropConfig, f: FilterConfig
) -> tuple[str, str] | None:
    if not all(box.contains(b) for b in faces):
        return "person_leaves_crop", "a face falls outside the clip's crop box"
    if box.jitter > f.max_crop_jitter:
        return "unstable_person", f"face centre spread {box.jitter:.2f} of the crop side"
    needed = c.output_size / f.max_upscale
    if box.side < needed:
        return "upscale_needed", f"crop side {box.side:.0f} px < {needed:.0f} px"
    return None


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(value, high))


def face_crop(
    face_box: tuple[float, float, float, float], crop: CropBox, scale: float
) -> list[float]:
    """Square face box (for PTUS's face branch) normalised to the clip crop: x0, y0, x1, y1."""
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
