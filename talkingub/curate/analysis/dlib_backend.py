"""`mediapipe+dlib68`: the MediaPipe backend with dlib's 68-point landmarks as the face points.

Faces are still found by MediaPipe's face detection (full range), and pose and person mask
come from MediaPipe too; only the face extent changes: dlib's iBUG-300W shape predictor runs on
the main MediaPipe face box. Its 68 points span the eyebrows to the chin (no forehead), so the
face height is shorter than with the face mesh (forehead to chin) and face ratios come out
lower for the same frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from talkingub.curate.analysis.base import ANALYZERS, FaceDetection, main_face
from talkingub.curate.analysis.mediapipe_backend import MediaPipeAnalyzer
from talkingub.curate.analysis.mediapipe_backend import _check as _mediapipe_check


def _check() -> str | None:
    reason = _mediapipe_check()
    if reason:
        return reason
    try:
        import dlib  # noqa: F401

        from talkingub.vision.dlib_face import LANDMARKS_68, model_file

        model_file(LANDMARKS_68)
    except ImportError:
        return "needs dlib: pip install 'talkingub[vision]'"
    except Exception as exc:  # DependencyError: the predictor file is missing
        return str(exc)
    return None


@ANALYZERS.register(
    "mediapipe+dlib68",
    check=_check,
    description="mediapipe 0.10.14 detection/pose/mask + dlib 68-point face landmarks",
)
class MediaPipeDlib68Analyzer(MediaPipeAnalyzer):
    name = "mediapipe+dlib68"

    def _load_face_points(self, solutions: Any) -> None:
        import dlib

        from talkingub.vision.dlib_face import LANDMARKS_68, dlib_version, model_file

        self._predictor = dlib.shape_predictor(str(model_file(LANDMARKS_68)))
        self._rectangle = dlib.rectangle
        self.version = f"mediapipe {self.version} + dlib {dlib_version()} {LANDMARKS_68}"

    def _face_points(self, image: np.ndarray, faces: list[FaceDetection]) -> np.ndarray | None:
        """The 68 points predicted inside the main MediaPipe face box (analysis pixels)."""
        if not faces:
            return None
        x0, y0, x1, y1, _ = main_face(faces)
        h, w = image.shape[:2]
        box = self._rectangle(
            max(0, round(x0)), max(0, round(y0)), min(w - 1, round(x1)), min(h - 1, round(y1))
        )
        shape = self._predictor(np.ascontiguousarray(image), box)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
