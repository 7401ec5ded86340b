"""Every keep/drop decision lives in `filters`; `crop` only measures geometry.

Direct tests of the decisions that moved into `filters` (the source-video refusals from the
work unit, the crop refusals from `crop`) and of the measurement `crop.face_overhang` they
read; the clip-level behaviour is covered through `plan_clips` in test_filters.py.
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest

from talkingub.curate import crop, filters
from talkingub.curate.config import BuildConfig, CropConfig, FilterConfig
from talkingub.curate.crop import CropBox, crop_box, face_overhang, measured_boxes
from talkingub.curate.filters import crop_reason, in_crop_reason, plan_crop, video_reason
from talkingub.curate.types import SourceVideo
from talkingub.curate.unit import process_video
from talkingub.errors import ReasonedError
from tests.unit.curate.synthetic import FRAME, passing

C = CropConfig()
F = FilterConfig()
CONFIG = BuildConfig()


def video(width: int = 1280, height: int = 720, duration: float = 60.0) -> SourceVideo:
    return SourceVideo(
        "vid", Path("/nonexistent/vid.mp4"), "someone", None, width, height, 25.0, duration, ""
    )


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (video(), None),
        (video(duration=CONFIG.max_duration + 1), "too_long"),
        (video(duration=CONFIG.max_duration), None),  # the limit itself is allowed
        (video(5000, 4000), "too_large_frame"),
        (video(1280, 31), "bad_dimensions"),  # smaller than MIN_SIDE
        (video(32, 32), None),
        (video(32 * 8 + 1, 32), "bad_dimensions"),  # wider than MAX_ASPECT : 1
        (video(32, 32 * 8), None),
    ],
)
def test_video_reason_refuses_sources_before_decoding(
    source: SourceVideo, reason: str | None
) -> None:
    refused = video_reason(source, CONFIG)
    assert (refused[0] if refused else None) == reason
    if refused:
        assert refused[1]  # a human-readable detail


def test_too_long_names_both_durations() -> None:
    refused = video_reason(video(duration=12000.0), CONFIG)
    assert refused == ("too_long", "12000 s > max_duration 10800 s")


def test_the_work_unit_raises_the_filters_reason_without_reading_the_video(
    tmp_path: Path,
) -> None:
    with pytest.raises(ReasonedError) as err:
        process_video(video(1280, 20), CONFIG, tmp_path / "work")
    assert err.value.reason == "bad_dimensions"
    assert not (tmp_path / "work").exists()


def person(n: int = 3, **changes: object) -> list:
    return [passing(i, **changes) for i in range(n)]


def test_plan_crop_is_the_crop_geometry_plus_the_crop_decision() -> None:
    frames = person()
    measured = measured_boxes(frames, FRAME)
    assert len(measured) == len(frames)
    box = crop_box(measured, FRAME, C.margin)
    assert plan_crop(frames, FRAME, C, F) == (box, crop_reason(box, measured, C, F))


def test_upscale_needed_when_the_crop_is_smaller_than_the_output() -> None:
    frames = person()  # upper body 400 px tall: the crop side is 464 px
    measured = measured_boxes(frames, FRAME)
    box = crop_box(measured, FRAME, C.margin)
    assert crop_reason(box, measured, C, F) is None
    big = dataclasses.replace(C, output_size=512)
    refused = crop_reason(box, measured, big, F)
    assert refused is not None and refused[0] == "upscale_needed"
    allowed = dataclasses.replace(F, max_upscale=2.0)  # 512 / 2 = 256 px needed
    assert crop_reason(box, measured, big, allowed) is None


def test_person_leaves_crop_comes_before_the_other_crop_reasons() -> None:
    frames = person()
    measured = measured_boxes(frames, FRAME)
    small = CropBox(900.0, 250.0, 100.0, 0.0)  # far too small for the upper body
    refused = crop_reason(small, measured, C, F)
    assert refused is not None and refused[0] == "person_leaves_crop"
    assert refused[1].startswith("frame 0:")


def test_in_crop_reason_only_judges_a_crop_that_cuts_the_body() -> None:
    m = passing(7)  # body bottom 660
    assert in_crop_reason(m, CropBox(700.0, 200.0, 470.0, 0.0), F) is None  # bottom 670
    cut = CropBox(700.0, 250.0, 330.0, 0.0)  # bottom 580: 0.2 face heights below shoulders
    refused = in_crop_reason(m, cut, F)
    assert refused is not None and refused[0] == "no_upper_body"
    assert "frame 7 in the crop" in refused[1]
    assert in_crop_reason(m, cut, dataclasses.replace(F, min_torso=0.1)) is None


def test_face_overhang_is_the_worst_share_outside_the_crop_and_its_frame() -> None:
    frames = person()
    frames[1] = passing(1, face_box=(910.0, 5.0, 1010.0, 205.0))  # near the crop's top
    box = crop_box(measured_boxes(frames, FRAME), FRAME, C.margin)
    share, index = face_overhang(frames, box, C.face_scale)
    assert index == 1 and share is not None and 0 < share < 1
    assert face_overhang(frames, None, C.face_scale) == (None, None)
    assert face_overhang([passing(0, face_box=None)], box, C.face_scale) == (None, None)


def test_crop_decides_nothing() -> None:
    """No filter thresholds and no reason codes in the geometry module."""
    assert not hasattr(crop, "FilterConfig")
    source = inspect.getsource(crop)
    for code in ("person_leaves_crop", "upscale_needed", "face_outside_crop", "no_upper_body"):
        assert f'"{code}"' not in source, code
        assert f'"{code}"' in inspect.getsource(filters), code
