"""What flows between build stages: typed samples and a real Skip type (no loose tuples)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class Skip:
    """A stage declined a sample: which stage, a reason code, and a human-readable detail."""

    stage: str
    reason: str
    detail: str = ""


@dataclasses.dataclass
class FrameMeasure:
    """Raw per-frame measurements on one analysed frame (source pixel coordinates)."""

    index: int  # frame index in the source video
    time: float  # seconds
    n_faces: int = 0  # faces above the score and size floors
    n_faces_any: int = 0  # faces above the score floor, of any size (people count)
    n_person_regions: int = 0  # large connected regions of the person mask (measure.py)
    face_box: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 (face mesh extent)
    face_score: float = 0.0  # detector confidence of the main face
    face_detector: str | None = None  # "full" (full-range model) or "short" (its fallback)
    head_top: float | None = None  # y of the top of the head (person mask above the face)
    body_bottom: float | None = None  # y of the hips, or the lowest visible torso point
    hips_visible: bool = False
    body_x: tuple[float, float] | None = None  # horizontal extent of the upper body
    body_censored: bool = False  # body bottom is the frame's last row (torso cut by the frame)
    shoulders_in_frame: bool = False  # both shoulders (pose 11/12) visible and inside the frame
    shoulder_y: float | None = None  # mean y of the two shoulders (when both are visible)
    torso_extent: float | None = None  # (body bottom - shoulder line) / face height
    head_margin: float | None = None  # head top / face height: room above the head
    face_height: float | None = None
    upper_body_height: float | None = None
    face_ratio: float | None = None
    sharpness: float | None = None
    person_area: float = 0.0  # share of the frame covered by the person mask
    pose: list[list[float]] | None = None  # 33 x (x, y, visibility), MediaPipe order
    bg_step: float | None = None  # background change vs the previous analysed frame
    bg_drift: float | None = None  # background change vs the first frame of the sequence

    def as_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Sequence:
    """One motion sequence (a shot, or a part of one) of a source video."""

    video_id: str
    shot: int
    start: int  # first source frame (inclusive)
    end: int  # last source frame (exclusive)
    fps: float
    frames: list[FrameMeasure] = dataclasses.field(default_factory=list)
    shot_score: float = 0.0  # PySceneDetect content_val at the cut that opened the shot

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / self.fps if self.fps else 0.0


@dataclasses.dataclass
class AnalysedFrame:
    """A decoded analysis frame handed to the person-analysis backend."""

    index: int
    time: float
    image: np.ndarray  # uint8 RGB at analysis resolution
    scale: float  # source pixels per analysis pixel


@dataclasses.dataclass(frozen=True)
class SourceVideo:
    video_id: str
    path: Path
    identity: str
    split: str | None
    width: int
    height: int
    fps: float
    duration: float
    sha256: str
