"""Detector backends shared by the metrics and the dataset builder (pose, face landmarks,
face identity), behind one interface and registry. Heavy libraries load lazily.

MediaPipe graphs are made only by `mediapipe_models`, dlib models only by `dlib_face`.
"""

from talkingub.vision.base import (
    BACKENDS,
    Backend,
    EmbeddingBackend,
    Embeddings,
    KeypointBackend,
    Keypoints,
    check_images,
    create_backend,
    embedding_backend,
    keypoint_backend,
    list_backends,
)

__all__ = [
    "BACKENDS",
    "Backend",
    "EmbeddingBackend",
    "Embeddings",
    "KeypointBackend",
    "Keypoints",
    "check_images",
    "create_backend",
    "embedding_backend",
    "keypoint_backend",
    "list_backends",
]

# Built-in backends register on import (their modules import heavy libraries only when a
# backend is created).
from talkingub.vision import backends  # noqa: F401
