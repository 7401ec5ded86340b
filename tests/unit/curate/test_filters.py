"""Frame and clip gates of `talkingub.curate.filters` at their exact thresholds (from config)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from talkingub.curate.config import CropConfig, FilterConfig
from talkingub.curate.filters import frame_reason, plan_clips
from tests.unit.curate.synthetic import FRAME, passing, sequence

F = FilterConfig()
C = CropConfig()


def below(x: float) -> float:
    return math.nextafter(x, -math.inf)


def above(x: float) -> float:
    return math.nextafter(x, math.inf)


def test_the_synthetic_frame_passes_every_gate() -> None:
    assert frame_reason(passing(0), F) is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"face_ratio": F.face_ratio_min}, None),
        ({"face_ratio": below(F.face_ratio_min)}, "face_ratio_low"),
        ({"face_ratio": F.face_ratio_max}, None),
        ({"face_ratio": above(F.face_ratio_max)}, "face_ratio_high"),
        ({"sharpness": F.min_sharpness}, None),
        ({"sharpness": below(F.min_sharpness)}, "blurry"),
        ({"sharpness": None}, "blurry"),
        ({"n_faces": F.max_people}, None),
        ({"n_faces": F.max_people + 1}, "multiple_people"),
        ({"n_person_regions": F.max_people + 1}, "multiple_people"),
        ({"n_faces": 0}, "no_face"),
        ({"face_ratio": None}, "no_face_landmarks"),
    ],
)
def test_frame_gate_at_its_threshold(changes: dict[str, object], reason: str | None) -> None:
    assert frame_reason(passing(0, **changes), F) == reason


def test_frame_gates_follow_the_config_not_constants() -> None:
    ratio = dataclasses.replace(F, face_ratio_min=0.6)
    assert frame_reason(passing(0, face_ratio=0.55), ratio) == "face_ratio_low"
    assert frame_reason(passing(0), dataclasses.replace(F, min_sharpness=500.0)) == "blurry"
    assert frame_reason(passing(0), dataclasses.replace(F, max_people=0)) == "multiple_people"


def only_clip(
    seq: object, f: FilterConfig = F, size: tuple[int, int] = FRAME
) -> tuple[str, str | None]:
    plans = plan_clips(seq, size, f, C)  # type: ignore[arg-type]
    assert len(plans) == 1
    return plans[0].status, plans[0].reason


def test_too_short_exactly_at_min_seconds() -> None:
    fps = 30.0
    n = round(F.min_seconds * fps)
    assert only_clip(sequence(n, fps)) == ("kept", None)
    assert only_clip(sequence(n - 1, fps)) == ("rejected", "too_short")


@pytest.mark.parametrize(
    ("field", "limit"), [("bg_drift", F.bg_max_drift), ("bg_step", F.bg_max_step)]
)
def test_background_moving_exactly_at_its_threshold(field: str, limit: float) -> None:
    def seq_with(value: float) -> object:
        frames = [passing(i) for i in range(0, 90, 10)]
        frames[5] = passing(50, **{field: value})
        return sequence(90, frames=frames)

    assert only_clip(seq_with(limit)) == ("kept", None)
    assert only_clip(seq_with(above(limit))) == ("rejected", "background_moving")


@pytest.mark.parametrize("max_upscale", [1.0, 2.0])
def test_upscale_needed_exactly_at_output_size_over_max_upscale(max_upscale: float) -> None:
    """The crop side is limited by the frame height, so the side equals the height."""
    f = dataclasses.replace(F, max_upscale=max_upscale)
    needed = C.output_size / max_upscale

    def seq_in(height: float) -> tuple[object, tuple[int, int]]:
        s = height / 256
        face = (150 * s, 60 * s, 230 * s, 140 * s)
        frames = [
            passing(
                i,
                face_box=face,
                head_top=30 * s,
                body_bottom=256 * s,  # the torso reaches the frame's bottom
                body_x=(130 * s, 250 * s),
                shoulder_y=180 * s,
                face_height=80 * s,
                face_ratio=80 / 230,
            )
            for i in range(0, 90, 10)
        ]
        return sequence(90, frames=frames), (round(2 * height), int(height))

    seq, size = seq_in(needed)
    assert only_clip(seq, f, size) == ("kept", None)
    seq, size = seq_in(needed - 1)
    assert only_clip(seq, f, size) == ("rejected", "upscale_needed")


def moving_person(spread: float, n_frames: int = 90, start: float = 0.0) -> object:
    """A person whose upper body slides `spread` px right over the sequence, from `start` px
    off the synthetic frame's centred position."""
    frames = []
    measured = list(range(0, n_frames, 10))
    for k, i in enumerate(measured):
        dx = start + spread * k / (len(measured) - 1)
        frames.append(
            passing(
                i,
                face_box=(910.0 + dx, 300.0, 1010.0 + dx, 500.0),
                body_x=(860.0 + dx, 1060.0 + dx),
            )
        )
    return sequence(n_frames, frames=frames)


def test_a_swaying_person_whose_union_fits_the_crop_is_kept_and_jitter_is_recorded() -> None:
    seq = moving_person(200.0)  # union 400 x 400: fits the 464-px crop
    plans = plan_clips(seq, FRAME, F, C)  # type: ignore[arg-type]
    assert [(p.status, p.reason) for p in plans] == [("kept", None)]
    assert plans[0].scores["crop_jitter"] == pytest.approx(200.0 / (400 * (1 + 2 * C.margin)))


def test_a_person_drifting_out_of_one_crop_is_split_not_dropped() -> None:
    seq = moving_person(1300.0, n_frames=300, start=-600.0)  # 10 s, 1300 px across the frame
    plans = plan_clips(seq, FRAME, F, C)  # type: ignore[arg-type]
    assert len(plans) >= 2
    assert [p.start for p in plans][1:] == [p.end for p in plans][:-1]
    assert sum(len(p.frames) for p in plans) == 30
    kept = [p for p in plans if p.status == "kept"]
    assert kept and all(p.scores["run_pieces"] == len(plans) for p in plans)
    for p in kept:
        assert p.crop is not None and all(p.crop.contains(m.face_box) for m in p.frames)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"shoulders_in_frame": False}, "no_upper_body"),
        ({"torso_extent": None}, "no_upper_body"),
        ({"torso_extent": F.min_torso}, None),
        ({"torso_extent": below(F.min_torso)}, "no_upper_body"),
        ({"n_faces": 0, "n_faces_any": 0, "n_person_regions": 4}, "multiple_people"),
        ({"n_faces": 0, "n_faces_any": 3}, "multiple_people"),
    ],
)
def test_upper_body_and_people_gates(changes: dict[str, object], reason: str | None) -> None:
    assert frame_reason(passing(0, **changes), F) == reason


def test_a_grid_of_small_people_is_multiple_people_for_the_whole_sequence() -> None:
    frames = [passing(i) for i in range(0, 300, 10)]
    for k in range(0, 30, 5):  # several people found on 6 of 30 frames, faces missed elsewhere
        frames[k] = passing(k * 10, n_faces_any=4)
    for k in range(1, 30, 5):
        frames[k] = passing(k * 10, n_faces=0)
    plans = plan_clips(sequence(300, frames=frames), FRAME, F, C)
    assert [(p.status, p.reason) for p in plans] == [("rejected", "multiple_people")]
    rare = dataclasses.replace(F, multi_person_share=0.5)
    plans = plan_clips(sequence(300, frames=frames), FRAME, rare, C)
    assert len(plans) > 1  # only the crowded frames' stretches are multiple_people


@pytest.mark.parametrize("reason", ["no_face", "no_face_landmarks"])
def test_a_short_detection_gap_is_bridged_and_a_long_one_splits(reason: str) -> None:
    miss = {"n_faces": 0} if reason == "no_face" else {"face_ratio": None, "face_box": None}
    frames = [passing(i) for i in range(0, 300, 10)]
    for k in (10, 20, 21):  # one miss, then a gap of two
        frames[k] = passing(k * 10, **miss)
    plans = plan_clips(sequence(300, frames=frames), FRAME, F, C)
    assert [(p.status, p.start, p.end) for p in plans] == [("kept", 0, 300)]
    assert plans[0].scores["n_bridged"] == 3 and sum(plans[0].bridged) == 3
    for k in (15, 16, 17):  # a gap of three (> max_gap = 2) splits the clip
        frames[k] = passing(k * 10, **miss)
    plans = plan_clips(sequence(300, frames=frames), FRAME, F, C)
    assert [(p.status, p.reason, p.start) for p in plans] == [
        ("kept", None, 0),
        ("rejected", reason, 150),
        ("kept", None, 180),
    ]
    no_gap = dataclasses.replace(F, max_gap=0)
    assert len(plan_clips(sequence(300, frames=frames), FRAME, no_gap, C)) == 7


def test_a_gap_at_the_edge_of_a_run_is_not_bridged() -> None:
    frames = [passing(i) for i in range(0, 300, 10)]
    frames[0] = passing(0, n_faces=0)
    frames[1] = passing(10, face_ratio=0.9)  # a real measurement failing, then a miss
    frames[2] = passing(20, n_faces=0)
    plans = plan_clips(sequence(300, frames=frames), FRAME, F, C)
    assert [p.status for p in plans] == ["rejected", "kept"]
    assert plans[0].gates == ["no_face", "face_ratio_high", "no_face"]
    assert not any(plans[0].bridged)


def test_plans_partition_the_analysed_frames() -> None:
    frames = [passing(i) for i in range(0, 600, 10)]
    for k in (5, 6, 7, 30, 31, 32, 33, 45):
        frames[k] = passing(k * 10, face_ratio=0.9)
    plans = plan_clips(sequence(600, frames=frames), FRAME, F, C)
    assert [m.index for p in plans for m in p.frames] == [m.index for m in frames]
    assert all(len(p.gates) == len(p.frames) == len(p.bridged) for p in plans)


def test_face_outside_crop_when_the_face_box_overhangs_more_than_allowed() -> None:
    """Head at the very top of the frame: the 1.6x face box reaches above the crop."""
    frames = [
        passing(i, face_box=(910.0, 5.0, 1010.0, 205.0), head_top=0.0, body_bottom=400.0)
        for i in range(0, 90, 10)
    ]
    plans = plan_clips(sequence(90, frames=frames), FRAME, F, C)
    share = plans[0].scores["face_overhang_max"]
    assert share > 0
    assert only_clip(
        sequence(90, frames=frames), dataclasses.replace(F, max_face_overhang=share)
    ) == ("kept", None)
    tight = dataclasses.replace(F, max_face_overhang=below(share))
    assert only_clip(sequence(90, frames=frames), tight) == ("rejected", "face_outside_crop")


def test_a_failing_frame_splits_the_sequence_into_runs() -> None:
    frames = [passing(i) for i in range(0, 300, 10)]
    frames[15] = passing(150, face_ratio=0.1)
    plans = plan_clips(sequence(300, frames=frames), FRAME, F, C)
    assert [(p.start, p.end, p.status, p.reason) for p in plans] == [
        (0, 150, "kept", None),
        (150, 160, "rejected", "face_ratio_low"),
        (160, 300, "kept", None),
    ]


def test_a_sequence_without_a_passing_frame_is_one_rejected_plan_with_the_top_reason() -> None:
    frames = [passing(i, face_ratio=0.9) for i in range(0, 90, 10)]
    frames[0] = passing(0, sharpness=1.0)
    plans = plan_clips(sequence(90, frames=frames), FRAME, F, C)
    assert [(p.status, p.reason) for p in plans] == [("rejected", "face_ratio_high")]
    assert "blurry: 1" in plans[0].detail
