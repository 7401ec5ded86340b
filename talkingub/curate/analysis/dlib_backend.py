"""`mediapipe+dlib68`: the MediaPipe backend with dlib's 68-point landmarks as the face points.

Faces are still found by MediaPipe's face detection (full range), and pose and person mask
come from MediaPipe too; only the face extent changes: dlib's iBUG-300W shape predictor runs on
the main MediaPipe face box. Its 68 points span the eyebrows to the chin (no forehead), so the
face height is shorter than with the face mesh (forehead to chin) and face ratios come out
lower for the same frame.

The predictor is the `dlib-68` vision backend's (`Dlib68.points_in_box`): the same model file,
loaded by `talkingub.vision.dlib_face`, without its HOG face detector.
"""

from __future__ import annotations

import numpy as np

from talkingub.curate.analysis.base import ANALYZERS, FaceDetection, main_face
from talkingub.curate.analysis.mediapipe_backend import MediaPipeAnalyzer
from talkingub.vision import mediapipe_models
from talkingub.vision.dlib_face import LANDMARKS_68, Dlib68, dlib_missing, dlib_version


def _check() -> str | None:
    return mediapipe_models.legacy_solutions_missing() or dlib_missing(LANDMARKS_68)


@ANALYZERS.register(
    "mediapipe+dlib68",
    check=_check,
    description="mediapipe 0.10.14 detection/pose/mask + dlib 68-point face landmarks",
)
class MediaPipeDlib68Analyzer(MediaPipeAnalyzer):
    name = "mediapipe+dlib68"

    def _load_face_points(self) -> None:
        self._landmarks = Dlib68()
        self.version = f"mediapipe {self.version} + dlib {dlib_version()} {LANDMARKS_68}"

    def _face_points(self, image: np.ndarray, faces: list[FaceDetection]) -> np.ndarray | None:
        """The 68 points predicted inside the main MediaPipe face box (analysis pixels)."""
        if not faces:
            return None
        x0, y0, x1, y1, _ = main_face(faces)
        h, w = image.shape[:2]
        box = (max(0, round(x0)), max(0, round(y0)), min(w - 1, round(x1)), min(h - 1, round(y1)))
        return self._landmarks.points_in_box(image, box).astype(np.float32)
