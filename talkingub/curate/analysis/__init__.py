"""Person analysis backends (registry `ANALYZERS`): person mask, pose, faces, face extent.

A backend takes a sequence's analysis frames and returns one `Observation` per frame. The
geometric definitions (face height, upper-body height) live in `talkingub.curate.measure`
and are shared by every backend, so a plugged-in parsing or pose model only supplies raw
detections.
"""

from talkingub.curate.analysis.base import ANALYZERS, Observation, PersonAnalyzer, RawDetections

__all__ = ["ANALYZERS", "Observation", "PersonAnalyzer", "RawDetections"]

# Built-in backends register on import.
from talkingub.curate.analysis import dlib_backend, mediapipe_backend  # noqa: F401
