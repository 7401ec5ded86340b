"""Frame and clip gates of `talkingub.build.filters` at their exact thresholds (from config)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from talkingub.build.config import CropConfig, FilterConfig
from talkingub.build.filters import frame_reason, plan_clips
from tests.unit.build.synthetic import FRAME, passing, sequence

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
            passing(i, face_box=face, head_top=40 * s, upper_body_height=230 * s)
            for i in range(0, 90, 10)
        ]
        return sequence(90, frames=frames), (round(2 * height), int(height))

    seq, size = seq_in(needed)
    assert only_clip(seq, f, size) == ("kept", None)
    seq, size = seq_in(needed - 1)
    assert only_clip(seq, f, size) == ("rejected", "upscale_needed")


def moving_face(spread: float) -> object:
    """Faces whose centres span `spread` px horizontally (everything else passes)."""
    frames = []
    for k, i in enumerate(range(0, 90, 10)):
        dx = spread * k / 8
        frames.append(passing(i, face_box=(910.0 + dx, 300.0, 1010.0 + dx, 500.0)))
    return sequence(90, frames=frames)


def test_unstable_person_exactly_at_max_crop_jitter() -> None:
    seq = moving_face(60.0)
    jitter = plan_clips(seq, FRAME, F, C)[0].scores["crop_jitter"]  # type: ignore[arg-type]
    assert jitter == pytest.approx(60.0 / (400 * (1 + 2 * C.margin)))
    assert only_clip(seq, dataclasses.replace(F, max_crop_jitter=jitter)) == ("kept", None)
    tighter = dataclasses.replace(F, max_crop_jitter=below(jitter))
    assert only_clip(seq, tighter) == ("rejected", "unstable_person")


def test_person_leaves_crop_when_a_face_is_outside_the_box() -> None:
    """Faces spread wider than the crop side (464 px here) cannot all be inside it."""
    lenient = dataclasses.replace(F, max_crop_jitter=10.0)
    assert only_clip(moving_face(600.0), lenient) == ("rejected", "person_leaves_crop")
    assert only_clip(moving_face(60.0), lenient) == ("kept", None)


def test_a_failing_frame_splits_the_sequence_into_runs() -> None:
    frames = [passing(i) for i in range(0, 300, 10)]
    frames[15] = passing(150, face_ratio=0.1)
    plans = plan_clips(sequence(300, frames=frames), FRAME, F, C)
    assert [(p.start, p.end, p.status) for p in plans] == [(0, 150, "kept"), (160, 300, "kept")]


def test_a_sequence_without_a_passing_frame_is_one_rejected_plan_with_the_top_reason() -> None:
    frames = [passing(i, face_ratio=0.9) for i in range(0, 90, 10)]
    frames[0] = passing(0, sharpness=1.0)
    plans = plan_clips(sequence(90, frames=frames), FRAME, F, C)
    assert [(p.status, p.reason) for p in plans] == [("rejected", "face_ratio_high")]
    assert "blurry: 1" in plans[0].detail
