"""Crop box math: one square box per clip, inside the frame, holding the upper-body union
(and the crop decisions made from it in `filters`: splitting a run, refusing a crop)."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from talkingub.curate.config import CropConfig, FilterConfig
from talkingub.curate.crop import CropBox, clip_face, face_crop, in_crop, upper_body_box
from talkingub.curate.filters import plan_crop, split_by_fit
from tests.unit.curate.synthetic import passing

C = CropConfig()
F = FilterConfig()


def frames_at(cx: float, face_top: float, ub: float, face_h: float = 100.0, n: int = 3) -> list:
    """Frames whose upper body spans head top (face top - 20) to head top + ub, 1.6 face
    heights wide, centred on cx."""
    box = (cx - face_h / 4, face_top, cx + face_h / 4, face_top + face_h)
    top = face_top - 20
    return [
        passing(
            i,
            face_box=box,
            face_height=face_h,
            head_top=top,
            body_bottom=top + ub,
            body_x=(cx - 0.8 * face_h, cx + 0.8 * face_h),
            shoulder_y=face_top + 1.4 * face_h,
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("size", "cx", "face_top", "ub"),
    [
        ((1920, 1080), 960, 300, 400),  # centred, fits
        ((1920, 1080), 90, 300, 400),  # person at the left edge
        ((1920, 1080), 1830, 300, 400),  # person at the right edge
        ((1920, 1080), 960, 30, 400),  # head at the top
        ((1920, 1080), 960, 600, 400),  # low in the frame: shifted up
        ((640, 360), 320, 50, 310),  # upper body as tall as the frame: side = frame height
        ((360, 640), 180, 50, 580),  # portrait frame: side = frame width
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


def test_unclamped_box_is_centred_on_the_union_with_a_margin_above_the_head() -> None:
    box, reason = plan_crop(frames_at(960, 300, 400), (1920, 1080), C, F)
    assert reason is None and box is not None
    assert box.x0 + box.side / 2 == pytest.approx(960)
    assert box.y0 == pytest.approx(280 - C.margin * box.side)  # head top 280
    assert box.jitter == 0


def test_the_side_follows_the_union_of_the_clip() -> None:
    frames = frames_at(960, 300, 400) + frames_at(960, 300, 500)
    box, _ = plan_crop(frames, (1920, 1080), C, F)
    assert box is not None and box.side == pytest.approx(500 * (1 + 2 * C.margin))
    swaying = frames_at(900, 300, 400) + frames_at(1020, 300, 400)  # union 280 px wide
    box, reason = plan_crop(swaying, (1920, 1080), C, F)
    assert reason is None and box is not None
    assert box.side == pytest.approx(400 * (1 + 2 * C.margin))
    assert box.x0 + box.side / 2 == pytest.approx(960)
    assert box.jitter == pytest.approx(120 / box.side)  # recorded, not a gate


def test_a_wider_than_tall_union_sets_the_side() -> None:
    frames = frames_at(700, 300, 300) + frames_at(1100, 300, 300)  # union 560 x 300
    box, reason = plan_crop(frames, (1920, 1080), C, F)
    assert reason is None and box is not None
    assert box.side == pytest.approx(560 * (1 + 2 * C.margin))


def test_a_drifting_person_is_split_into_pieces_that_each_fit() -> None:
    frames = [
        dataclasses.replace(frames_at(300 + 60 * k, 300, 400, n=1)[0], index=k) for k in range(20)
    ]
    pieces = split_by_fit(frames, (1920, 1080), C.margin)
    assert len(pieces) > 1
    assert pieces[0][0] == 0 and pieces[-1][1] == 20
    assert all(a[1] == b[0] for a, b in itertools.pairwise(pieces))
    for a, b in pieces:
        _, reason = plan_crop(frames[a:b], (1920, 1080), C, F)
        assert reason is None


def test_unmeasured_frames_join_the_piece_they_fall_in() -> None:
    frames = frames_at(960, 300, 400, n=4)
    frames[2] = dataclasses.replace(frames[2], face_box=None)
    assert upper_body_box(frames[2]) is None
    assert split_by_fit(frames, (1920, 1080), C.margin) == [(0, 4)]


def test_a_crop_that_cuts_the_body_re_measures_ratio_and_torso_in_the_crop() -> None:
    """Portrait frame 300 px wide: the 300-px crop cuts an upper body 400 px tall."""
    frames = frames_at(150, 100, 400, face_h=100)
    box, reason = plan_crop(frames, (300, 800), C, F)
    assert box is not None and box.side == 300 and box.bottom < frames[0].body_bottom
    ratio, torso = in_crop(frames[0], box)
    assert ratio == pytest.approx(100 / (box.bottom - 80))
    assert torso == pytest.approx((box.bottom - 240) / 100)
    assert reason is None  # what the crop shows still passes: ratio 0.36, torso 1.16
    bigger = frames_at(150, 100, 400, face_h=170)  # the crop ends 0.1 face heights below
    box, reason = plan_crop(bigger, (300, 800), C, F)
    assert reason is not None and reason[0] == "no_upper_body"
    assert "in the crop" in reason[1]


def test_person_leaves_crop_names_the_frame_the_box_and_the_crop() -> None:
    frames = frames_at(960, 300, 400)
    frames[1] = dataclasses.replace(frames[1], body_x=(100.0, 1800.0))
    box, reason = plan_crop(frames, (1920, 1080), C, F)
    assert box is not None and reason is not None
    assert reason[0] == "person_leaves_crop"
    assert "frame 1" in reason[1] and "(100, 280, 1800, 680)" in reason[1] and "crop x" in reason[1]


def test_landmarks_past_the_frame_edge_do_not_make_the_person_leave_a_full_frame_crop() -> None:
    """The crop is the whole 400x400 frame; the face mesh overhangs the left edge by 6 px."""
    frames = [
        passing(
            i,
            face_box=(-6.0, 60.0, 120.0, 200.0),
            face_height=140.0,
            head_top=40.0,
            body_bottom=400.0,
            body_x=(0.0, 300.0),
            shoulder_y=250.0,
        )
        for i in range(3)
    ]
    box, reason = plan_crop(frames, (400, 400), C, F)
    assert box is not None and (box.x0, box.y0, box.side) == (0, 0, 400)
    assert reason is None or reason[0] != "person_leaves_crop"


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


def test_clip_face_clips_to_the_crop_and_reports_the_overhang() -> None:
    assert clip_face([0.2, 0.2, 0.6, 0.6]) == ([0.2, 0.2, 0.6, 0.6], 0.0)
    box, outside = clip_face([-0.2, 0.1, 0.2, 0.5])  # half of it left of the crop
    assert box == [0.0, 0.1, 0.2, 0.5] and outside == pytest.approx(0.5)
    assert clip_face([1.2, 0.1, 1.6, 0.5])[1] == pytest.approx(1.0)
