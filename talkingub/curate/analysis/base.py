"""The person-analysis backend interface and its registry."""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np

from talkingub.curate.types import AnalysedFrame, FrameMeasure
from talkingub.registry import Registry

FaceDetection = tuple[float, float, float, float, float]  # x0, y0, x1, y1, score


def main_face(faces: list[FaceDetection]) -> FaceDetection:
    """The largest detection: the face every measurement refers to."""
    return max(faces, key=lambda f: (f[2] - f[0]) * (f[3] - f[1]))


@dataclasses.dataclass
class RawDetections:
    """What a backend detects on one analysis frame (analysis-pixel coordinates)."""

    faces: list[FaceDetection]
    face_points: np.ndarray | None  # [N, 2] landmarks of the main face (its full extent)
    pose: np.ndarray | None  # [33, 3] x, y, visibility (MediaPipe/BlazePose order)
    mask: np.ndarray  # float32 [H, W] person probability
    face_model: str | None = None  # which face detector found `faces` (e.g. "full", "short")


@dataclasses.dataclass
class Observation:
    measure: FrameMeasure  # source-pixel measurements
    mask: np.ndarray  # person probability at analysis size (for the background test)


class PersonAnalyzer(Protocol):
    name: str
    version: str

    def detect(self, frames: list[AnalysedFrame]) -> list[RawDetections]:
        """Detections for consecutive frames of one sequence (backends may track across them)."""
        ...

    def close(self) -> None: ...


ANALYZERS: Registry[type] = Registry("person-analysis backend")
