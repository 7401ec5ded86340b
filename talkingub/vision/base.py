"""One interface for every detector backend the metrics and the dataset builder use.

Backends take a batch of RGB images as a uint8 `np.ndarray` [N, H, W, 3] and return either
`Keypoints` (pixel coordinates of the input images, NaN where nothing was found, plus a
per-point confidence) or `Embeddings` (one row per image, NaN rows where no face was found).
Heavy libraries (mediapipe, dlib, onnxruntime) are imported only when a backend or model is
created; MediaPipe graphs are made by `mediapipe_models`, dlib models by `dlib_face` (also for
the dataset builder's person analysis).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from talkingub.errors import ConfigError
from talkingub.registry import Registry


@dataclasses.dataclass(frozen=True)
class Keypoints:
    """Detections for a batch: `points` [N, K, 2] (x, y) pixels, `confidence` [N, K] in [0, 1].

    `detected[i]` is False when the backend found no subject in image i (its points are NaN).
    """

    points: np.ndarray
    confidence: np.ndarray
    detected: np.ndarray
    image_size: tuple[int, int]  # (height, width) of the images the points refer to
    backend: str
    backend_version: str

    def __post_init__(self) -> None:
        n, k = self.points.shape[:2]
        if self.points.shape != (n, k, 2) or self.confidence.shape != (n, k):
            raise ConfigError(f"bad keypoint shapes {self.points.shape} / {self.confidence.shape}")
        if self.detected.shape != (n,):
            raise ConfigError(f"bad detected shape {self.detected.shape}")

    def visible(self, threshold: float) -> np.ndarray:
        """[N, K] bool: point found with confidence >= threshold."""
        finite = np.isfinite(self.points).all(axis=-1)
        return finite & (self.confidence >= threshold) & self.detected[:, None]


@dataclasses.dataclass(frozen=True)
class Embeddings:
    """Identity embeddings [N, D]; rows of NaN and `detected[i] == False` where no face."""

    vectors: np.ndarray
    detected: np.ndarray
    backend: str
    backend_version: str


class Backend(abc.ABC):
    """A detector; `name` and `version` are recorded in every metric result."""

    name: str = ""
    kind: str = ""  # "pose", "face-landmarks" or "face-embedding"

    @property
    @abc.abstractmethod
    def version(self) -> str: ...

    @abc.abstractmethod
    def __call__(self, images: np.ndarray) -> Keypoints | Embeddings: ...

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release native resources (graphs, sessions); safe to call twice."""


class KeypointBackend(Backend):
    num_keypoints: int = 0

    @abc.abstractmethod
    def __call__(self, images: np.ndarray) -> Keypoints: ...

    def empty(self, n: int, image_size: tuple[int, int]) -> Keypoints:
        return Keypoints(
            points=np.full((n, self.num_keypoints, 2), np.nan),
            confidence=np.zeros((n, self.num_keypoints)),
            detected=np.zeros(n, dtype=bool),
            image_size=image_size,
            backend=self.name,
            backend_version=self.version,
        )


class EmbeddingBackend(Backend):
    dim: int = 0

    @abc.abstractmethod
    def __call__(self, images: np.ndarray) -> Embeddings: ...


BackendFactory = Callable[..., Backend]
# The built-in backends are registered by `talkingub.vision.backends`, which the package's
# `__init__` imports: importing anything from `talkingub.vision` registers them.
BACKENDS: Registry[BackendFactory] = Registry("vision backend")


def create_backend(name: str, **options: Any) -> Backend:
    """Instantiate a registered backend (raises `DependencyError` when it cannot run here)."""
    return BACKENDS.get(name)(**options)


def keypoint_backend(name: str, **options: Any) -> KeypointBackend:
    """`create_backend` for a pose / face-landmark backend (typed)."""
    backend = create_backend(name, **options)
    if not isinstance(backend, KeypointBackend):
        raise ConfigError(f"vision backend {name!r} does not return keypoints")
    return backend


def embedding_backend(name: str, **options: Any) -> EmbeddingBackend:
    """`create_backend` for a face-identity backend (typed)."""
    backend = create_backend(name, **options)
    if not isinstance(backend, EmbeddingBackend):
        raise ConfigError(f"vision backend {name!r} does not return embeddings")
    return backend


def list_backends() -> dict[str, str | None]:
    """name -> None when usable here, else why not."""
    return BACKENDS.available()


def check_images(images: np.ndarray) -> np.ndarray:
    """Validate a uint8 RGB batch [N, H, W, 3] and return it C-contiguous."""
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        raise ConfigError("images must be a uint8 numpy array [N, H, W, 3] (RGB)")
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ConfigError(f"images must be [N, H, W, 3], got {images.shape}")
    return np.ascontiguousarray(images)
