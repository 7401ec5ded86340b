"""Crop box math: one square box per clip, inside the frame, holding the upper body."""

from __future__ import annotations

import pytest

from talkingub.build.config import CropConfig, FilterConfig
from talkingub.build.crop import CropBox, face_crop, plan_crop
from tests.unit.build.synthetic import passing

C = CropConfig()
F = FilterConfig()


def frames_at(cx: float, face_top: float, ub: float, face_h: float = 100.0) -> list:
    box = (cx - face_h / 4, face_top, cx + face_h / 4, face_top + face_h)
    return [
        passing(i, face_box=box, head_top=face_top - 20, upper_body_height=ub) for i in range(3)
    ]


@pytest.mark.parametrize(
    ("size", "cx", "face_top", "ub"),
    [
        ((1920, 1080), 960, 300, 400),  # centred, fits
        ((1920, 1080), 30, 300, 400),  # face at the left edge
        ((1920, 1080), 1900, 300, 400),  # face at the right edge
        ((1920, 1080), 960, 10, 400),  # head at the top
        ((1920, 1080), 960, 900, 400),  # low in the frame: shifted up
        ((640, 360), 320, 50, 900),  # upper body taller than the frame: side = frame height
        ((360, 640), 180, 50, 900),  # portrait frame: side = frame width
    ],
)
def test_crop_is_square_and_inside_the_frame(
    size: tuple[int, int], cx: float, face_top: float, ub: float
) -> None:
    width, height = size
    box, _ = plan_crop(frames_at(cx, face_top, ub), size, C, F)
    assert box is not None
    assert box.side == pytest.approx(min(ub * (1 + 2 * C.margin), width, height))
    assert box.x0 >= 0 and box.x0 + box.side <= width + 1e-9
    assert box.y0 >= 0 and box.y0 + box.side <= height + 1e-9


def test_unclamped_box_is_centred_on_the_face_with_a_margin_above_the_head() -> None:
    box, reason = plan_crop(frames_at(960, 300, 400), (1920, 1080), C, F)
    assert reason is None and box is not None
    assert box.x0 + box.side / 2 == pytest.approx(960)
    assert box.y0 == pytest.approx(280 - C.margin * box.side)  # head top 280
    assert box.jitter == 0


def test_the_side_follows_the_tallest_upper_body_of_the_clip() -> None:
    frames = frames_at(960, 300, 400) + frames_at(960, 300, 500)
    box, _ = plan_crop(frames, (1920, 1080), C, F)
    assert box is not None and box.side == pytest.approx(500 * (1 + 2 * C.margin))


def test_no_measured_frame_gives_no_box() -> None:
    assert plan_crop([passing(0, face_box=None)], (1920, 1080), C, F) == (
        None,
        ("no_face_landmarks", "no measured frame"),
    )


def test_contains_tolerates_one_pixel() -> None:
    box = CropBox(100.0, 100.0, 200.0, 0.0)
    assert box.contains((99.0, 99.0, 301.0, 301.0))
    assert not box.contains((98.9, 150.0, 200.0, 200.0))
    assert not box.contains((150.0, 150.0, 200.0, 301.1))


def test_face_crop_is_a_square_normalised_to_the_clip_crop() -> None:
    crop = CropBox(100.0, 50.0, 400.0, 0.0)
    x0, y0, x1, y1 = face_crop((250.0, 150.0, 330.0, 250.0), crop, 1.6)
    assert x1 - x0 == pytest.approx(y1 - y0) == pytest.approx(1.6 * 100 / 400, abs=1e-4)
    assert (x0 + x1) / 2 == pytest.approx((290 - 100) / 400, abs=1e-4)
    assert (y0 + y1) / 2 == pytest.approx((200 - 50) / 400, abs=1e-4)
