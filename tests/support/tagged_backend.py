"""A user-style analysis plugin: registers `tagged-mediapipe` when imported.

It wraps the built-in MediaPipe backend (real detections) and tags its name, and its version
carries the id of the process that loaded it, so a test can see the backend ran in the
spawned workers of a `process` build, which know it only through `analysis.plugins`.
"""

from __future__ import annotations

import os

from talkingub.curate.analysis import ANALYZERS, RawDetections
from talkingub.curate.analysis.mediapipe_backend import MediaPipeAnalyzer
from talkingub.curate.types import AnalysedFrame

NAME = "tagged-mediapipe"


@ANALYZERS.register(NAME, description="test plugin: the mediapipe backend under another name")
class TaggedMediaPipe:
    name = NAME

    def __init__(self, min_face_score: float = 0.5, pose_every: int = 1) -> None:
        self.inner = MediaPipeAnalyzer(min_face_score=min_face_score, pose_every=pose_every)
        self.version = f"{self.inner.version}+tagged.pid{os.getpid()}"

    def detect(self, frames: list[AnalysedFrame]) -> list[RawDetections]:
        return self.inner.detect(frames)

    def close(self) -> None:
        self.inner.close()
