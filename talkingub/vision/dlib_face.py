"""dlib face backends: the 68-point shape predictor and the 128-d face descriptor.

The model files come with the `face_recognition_models` wheel; they are located through the
import system (no `pkg_resources`, which that package's own `__init__` imports).
Faces are found with dlib's HOG frontal detector; the largest face in each image is used.

This module is the one loader of dlib models (`frontal_face_detector`, `shape_predictor`,
`face_recognition_model`): the backends below and the dataset builder's `mediapipe+dlib68`
analysis (which runs `Dlib68.points_in_box` on MediaPipe's face box) get them from here.
dlib is imported only when a model is made.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from talkingub.errors import DependencyError
from talkingub.vision.base import (
    EmbeddingBackend,
    Embeddings,
    KeypointBackend,
    Keypoints,
    check_images,
)

LANDMARKS_68 = "shape_predictor_68_face_landmarks.dat"
LANDMARKS_5 = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR = "dlib_face_recognition_resnet_model_v1.dat"


def model_file(filename: str) -> Path:
    """Path of a .dat file shipped in the face_recognition_models wheel."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise DependencyError(
            "face_recognition_models is not installed: pip install 'talkingub[vision]'"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / filename
    if not path.is_file():
        raise DependencyError(f"{filename} missing from face_recognition_models at {path.parent}")
    return path


def dlib_module() -> Any:
    import dlib

    return dlib


def frontal_face_detector() -> Any:
    """dlib's HOG + linear SVM frontal face detector."""
    return dlib_module().get_frontal_face_detector()


def shape_predictor(filename: str) -> Any:
    """A shape predictor from the face_recognition_models wheel (68 or 5 points)."""
    return dlib_module().shape_predictor(str(model_file(filename)))


def face_recognition_model() -> Any:
    """dlib's ResNet face descriptor network (128-d)."""
    return dlib_module().face_recognition_model_v1(str(model_file(DESCRIPTOR)))


def dlib_missing(*filenames: str) -> str | None:
    """Why dlib (with these model files) cannot run here, or None; loads no model."""
    try:
        dlib_module()
        for filename in filenames:
            model_file(filename)
    except ImportError:
        return "needs dlib: pip install 'talkingub[vision]'"
    except DependencyError as exc:  # face_recognition_models or one of its files is missing
        return str(exc)
    return None


def largest_face(detector: Any, image: np.ndarray, upsample: int) -> Any | None:
    """dlib rectangle of the largest detected face, or None."""
    faces = list(detector(image, upsample))
    return max(faces, key=lambda r: r.width() * r.height()) if faces else None


def dlib_version() -> str:
    return str(dlib_module().__version__)


class Dlib68(KeypointBackend):
    """iBUG-300W 68-point landmarks (dlib shape predictor); confidence 1 where detected."""

    name = "dlib-68"
    kind = "face-landmarks"
    num_keypoints = 68

    def __init__(self, upsample: int = 1) -> None:
        self.upsample = upsample
        self._detector = frontal_face_detector()
        self._predictor = shape_predictor(LANDMARKS_68)

    @property
    def version(self) -> str:
        return f"dlib {dlib_version()} hog+{LANDMARKS_68} upsample={self.upsample}"

    def __call__(self, images: np.ndarray) -> Keypoints:
        images = check_images(images)
        n, h, w = images.shape[:3]
        out = self.empty(n, (h, w))
        for i, image in enumerate(images):
            rect = largest_face(self._detector, image, self.upsample)
            if rect is None:
                continue
            out.points[i] = self._points(image, rect)
            out.confidence[i] = 1.0
            out.detected[i] = True
        return out

    def points_in_box(self, image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """The 68 points [68, 2] (pixels) predicted inside a given face box (x0, y0, x1, y1):
        for faces found by another detector (dlib's own HOG detector is not run)."""
        rect = dlib_module().rectangle(*box)
        return self._points(np.ascontiguousarray(image), rect)

    def _points(self, image: np.ndarray, rect: Any) -> np.ndarray:
        shape = self._predictor(image, rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)

    def face_boxes(self, images: np.ndarray) -> list[tuple[float, float, float, float] | None]:
        """Largest-face box (x0, y0, x1, y1) per image, or None."""
        boxes: list[tuple[float, float, float, float] | None] = []
        for image in check_images(images):
            rect = largest_face(self._detector, image, self.upsample)
            boxes.append(None if rect is None else _rect_box(rect))
        return boxes


def _rect_box(rect: Any) -> tuple[float, float, float, float]:
    return (float(rect.left()), float(rect.top()), float(rect.right()), float(rect.bottom()))


class Dlib128(EmbeddingBackend):
    """dlib ResNet face descriptor (128-d, LFW-trained; faces aligned with the 5-point shape)."""

    name = "dlib-128"
    kind = "face-embedding"
    dim = 128

    def __init__(self, upsample: int = 1, num_jitters: int = 1) -> None:
        self.upsample = upsample
        self.num_jitters = num_jitters
        self._detector = frontal_face_detector()
        self._shape = shape_predictor(LANDMARKS_5)
        self._net = face_recognition_model()

    @property
    def version(self) -> str:
        return f"dlib {dlib_version()} {DESCRIPTOR} jitters={self.num_jitters}"

    def __call__(self, images: np.ndarray) -> Embeddings:
        images = check_images(images)
        vectors = np.full((len(images), self.dim), np.nan)
        detected = np.zeros(len(images), dtype=bool)
        for i, image in enumerate(images):
            rect = largest_face(self._detector, image, self.upsample)
            if rect is None:
                continue
            shape = self._shape(image, rect)
            vectors[i] = np.asarray(
                self._net.compute_face_descriptor(image, shape, self.num_jitters)
            )
            detected[i] = True
        return Embeddings(vectors, detected, self.name, self.version)
