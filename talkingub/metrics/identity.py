"""Identity metrics on face embeddings: AED (distance, lower is better) and CSIM (cosine
similarity, higher is better) between the generated and the ground-truth frame.

AED `distance`: "l2" (Euclidean), "squared_l2" (what the FOMM README calls AED on OpenFace
embeddings), or "mean_abs" (what pose-evaluation `cmp.py` actually computes: the mean absolute
difference of the two vectors). `normalise=True` L2-normalises embeddings first (OpenFace
and ArcFace practice). Frames whose generated image has no face are skipped or penalised.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch

from talkingub.errors import ConfigError
from talkingub.metrics.base import (
    Averaging,
    FrameMetric,
    FrameScores,
    MissingPolicy,
    summarise,
    video_ids,
)
from talkingub.metrics.detection import DetectorMixin
from talkingub.vision.base import Backend, Embeddings

EmbeddingDistance = Literal["l2", "squared_l2", "mean_abs", "cosine_similarity"]
DISTANCES = ("l2", "squared_l2", "mean_abs", "cosine_similarity")


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def embedding_frames(
    pred: Embeddings, target: Embeddings, distance: EmbeddingDistance, normalise: bool = True
) -> FrameScores:
    """Per-frame distance (or cosine similarity) of two embedding batches."""
    if distance not in DISTANCES:
        raise ConfigError(f"distance must be one of {DISTANCES}, got {distance!r}")
    p, t = np.nan_to_num(pred.vectors), np.nan_to_num(target.vectors)
    if normalise or distance == "cosine_similarity":
        p, t = _unit_rows(p), _unit_rows(t)
    diff = p - t
    if distance == "l2":
        values = np.linalg.norm(diff, axis=1)
    elif distance == "squared_l2":
        values = (diff**2).sum(axis=1)
    elif distance == "mean_abs":
        values = np.abs(diff).mean(axis=1)
    else:
        values = (p * t).sum(axis=1)
    target_missing = ~target.detected
    return FrameScores(
        torch.from_numpy(values.astype(np.float64)),
        torch.from_numpy(~pred.detected & ~target_missing),
        torch.from_numpy(target_missing.copy()),
    )


class _IdentityMetric(DetectorMixin, FrameMetric):
    uses_detection = True

    def __init__(
        self,
        backend: str | Backend = "dlib-128",
        backend_options: dict[str, Any] | None = None,
        normalise: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_backend(backend, backend_options)
        self.normalise = normalise
        self.distance: EmbeddingDistance = "l2"

    def frame_scores(self, pred: Any, target: Any) -> FrameScores:
        p, t = self.detect(pred), self.detect(target)
        assert isinstance(p, Embeddings) and isinstance(t, Embeddings)
        return embedding_frames(p, t, self.distance, self.normalise)

    def contract(self) -> dict[str, Any]:
        return {**super().contract(), "distance": self.distance, "normalise": self.normalise}


class AverageEuclideanDistance(_IdentityMetric):
    metric_name = "aed"
    higher_is_better = False

    def __init__(self, distance: EmbeddingDistance = "l2", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if distance not in DISTANCES[:3]:
            raise ConfigError(f"AED distance must be one of {DISTANCES[:3]}, got {distance!r}")
        self.distance = distance

    @property
    def unit(self) -> str:  # type: ignore[override]
        space = "unit-normalised" if self.normalise else "raw"
        return f"{self.distance} in {space} embedding space"


class CosineSimilarity(_IdentityMetric):
    metric_name, unit = "csim", "cosine similarity"
    higher_is_better = True

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("penalty", 0.0)
        super().__init__(**kwargs)
        self.distance = "cosine_similarity"


def average_euclidean_distance(
    pred: Embeddings,
    target: Embeddings,
    distance: EmbeddingDistance = "l2",
    normalise: bool = True,
    averaging: Averaging = "frame",
    missing: MissingPolicy = "skip",
    penalty: float | None = None,
    video: Any = None,
) -> torch.Tensor:
    """Functional twin of AED (and of CSIM with distance="cosine_similarity")."""
    scores = embedding_frames(pred, target, distance, normalise)
    ids = video_ids(video, len(scores.values), averaging)
    return torch.tensor(summarise(scores, ids, averaging, missing, penalty)[0], dtype=torch.float64)


def cosine_similarity(
    pred: Embeddings,
    target: Embeddings,
    averaging: Averaging = "frame",
    missing: MissingPolicy = "skip",
    penalty: float = 0.0,
    video: Any = None,
) -> torch.Tensor:
    """Functional twin of `CosineSimilarity`."""
    return average_euclidean_distance(
        pred, target, "cosine_similarity", True, averaging, missing, penalty, video
    )
