"""A test analysis plugin: the MediaPipe backend with chosen face detections removed.

`dropping-mediapipe` runs the real MediaPipe models, then empties the face detections of the
analysed frames whose positions (0-based, within each sequence) are listed in the environment
variable TALKINGUB_TEST_DROP_FACES (e.g. "5,12"), as a detector miss would.
"""

from __future__ import annotations

import dataclasses
import os

from talkingub.curate.analysis import ANALYZERS, RawDetections
from talkingub.curate.analysis.mediapipe_backend import MediaPipeAnalyzer
from talkingub.curate.types import AnalysedFrame

NAME = "dropping-mediapipe"
ENV = "TALKINGUB_TEST_DROP_FACES"


@ANALYZERS.register(NAME, description="test plugin: mediapipe with face detections removed")
class DroppingMediaPipe:
    name = NAME

    def __init__(self, min_face_score: float = 0.5, pose_every: int = 1) -> None:
        self.inner = MediaPipeAnalyzer(min_face_score=min_face_score, pose_every=pose_every)
        self.version = f"{self.inner.version}+drop"

    def detect(self, frames: list[AnalysedFrame]) -> list[RawDetections]:
        drop = {int(p) for p in os.environ.get(ENV, "").split(",") if p.strip()}
        raws = self.inner.detect(frames)
        return [
            dataclasses.replace(r, faces=[], face_points=None, face_model=None) if i in drop else r
            for i, r in enumerate(raws)
        ]

    def close(self) -> None:
        self.inner.close()
