"""Synthetic measurements for the decision logic (no video, no detector)."""

from __future__ import annotations

import dataclasses

from talkingub.curate.types import FrameMeasure, Sequence

FRAME = (1920, 1080)  # source frame size used unless a test needs another


def passing(index: int, **changes: object) -> FrameMeasure:
    """A frame that passes every default gate: one face, ratio 0.5, shoulders in view with 0.6
    face heights of torso below them, sharp, still background."""
    m = FrameMeasure(
        index=index,
        time=index / 30,
        n_faces=1,
        n_person_regions=1,
        face_box=(910.0, 300.0, 1010.0, 500.0),
        face_score=0.9,
        head_top=260.0,
        body_bottom=660.0,
        body_x=(860.0, 1060.0),
        shoulders_in_frame=True,
        shoulder_y=540.0,
        torso_extent=0.6,
        face_height=200.0,
        upper_body_height=400.0,
        face_ratio=0.5,
        sharpness=100.0,
        person_area=0.2,
        bg_step=0.0,
        bg_drift=0.0,
    )
    return dataclasses.replace(m, **changes)  # type: ignore[arg-type]


def sequence(
    n_frames: int, fps: float = 30.0, every: int = 10, frames: list[FrameMeasure] | None = None
) -> Sequence:
    """Source frames [0, n_frames) with a measured frame every `every` frames."""
    measured = frames or [passing(i) for i in range(0, n_frames, every)]
    return Sequence("vid", 0, 0, n_frames, fps, measured)
