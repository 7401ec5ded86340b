"""dlib face backends: the 68-point shape predictor and the 128-d face descriptor.

The model files come with the `face_recognition_models` wheel; they are located through the
import system (no `pkg_resources`, which that package's own `__init__` imports).
Faces are found with dlib's HOG frontal detector; the largest face in each image is used.
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


def largest_face(detector: Any, image: np.ndarray, upsample: int) -> Any | None:
    """dlib rectangle of the largest detected face, or None."""
    faces = list(detector(image, upsample))
    return max(faces, key=lambda r: r.width() * r.height()) if faces else None


def dlib_version() -> str:
    import dlib

    return str(dlib.__version__)


class Dlib68(KeypointBackend):
    """iBUG-300W 68-point landmarks (dlib shape predictor); confidence 1 where detected."""

    name = "dlib-68"
    kind = "face-landmarks"
    num_keypoints = 68

    def __init__(self, upsample: int = 1) -> None:
        import dlib

        self.upsample = upsample
        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(str(model_file(LANDMARKS_68)))

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
            shape = self._predictor(image, rect)
            out.points[i] = [(p.x, p.y) for p in shape.parts()]
            out.confidence[i] = 1.0
            out.detected[i] = True
        return out

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
        import dlib

        self.upsample = upsample
        self.num_jitters = num_jitters
        self._detector = dlib.get_frontal_face_detector()
        self._shape = dlib.shape_predictor(str(model_file(LANDMARKS_5)))
        self._net = dlib.face_recognition_model_v1(str(model_file(DESCRIPTOR)))

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
