"""Detector backends shared by the metrics and the dataset builder (pose, face landmarks,
face identity), behind one interface and registry. Heavy libraries load lazily."""

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
