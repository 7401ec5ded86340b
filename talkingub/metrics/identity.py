"""Identity metrics on face embeddings: AED (distance, lower is better) and CSIM (cosine
similarity, higher is better) between the generated and the ground-truth frame.

Both hand the embedding backend the whole frame as scored (resized to the evaluation size; the
metric crops nothing): the backend finds and aligns the face itself (dlib-128: dlib's HOG
detector, largest face, 5-point alignment; arcface-onnx: the same detector, dlib-68 points ->
5-point similarity alignment to 112 px). Frames whose generated image has no face are skipped
or penalised; ground-truth frames without a face are never scored.

AED `preset` (default "fomm") names a published definition:
- "fomm": FOMM's AED, AliaksandrSiarohin/pose-evaluation `cmp.py` since 5a5c45e (2019-03-07):
  per frame `np.sum(np.abs(a - b) ** 2)`, the squared L2 distance, between OpenFace embeddings
  that the network itself unit-normalises (thnkim/OpenFacePytorch@d002218 `netOpenFace`);
  averaged over all frames. OpenFace saw the whole 256 px frame squashed to 96 x 96 with no
  face detection, so it never missed a frame; OpenFace is not available here, the default
  backend is dlib-128 (also a 128-d metric-learning embedding), unit-normalised here.
- "ptus" (alias "arcface"): PTUS (AAAI 2024) says only "AED (Deng et al. 2019) measures the
  ability to preserve the identity": ArcFace embeddings (arcface-onnx) and, by the metric's
  name, the Euclidean ("l2") distance, of unit embeddings (insightface's `normed_embedding`).
  The paper states no distance formula, normalisation, face crop or resolution.
`distance` / `normalise` / `backend` given explicitly override the preset's; the contract then
records preset "custom". Distances: "l2", "squared_l2" or "mean_abs" (the mean absolute
difference: pose-evaluation `cmp.py` from 54e33b4 (2018-10-17) until 5a5c45e).
"""

from __future__ import annotations

import dataclasses
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
AedPreset = Literal["fomm", "ptus", "arcface"]


@dataclasses.dataclass(frozen=True)
class AedSettings:
    """What an AED preset fixes."""

    distance: EmbeddingDistance
    normalise: bool
    backend: str


AED_PRESETS: dict[str, AedSettings] = {
    "fomm": AedSettings("squared_l2", True, "dlib-128"),
    "ptus": AedSettings("l2", True, "arcface-onnx"),
    "arcface": AedSettings("l2", True, "arcface-onnx"),
}
DEFAULT_AED_PRESET: AedPreset = "fomm"


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
    takes_missing = True
    measures_identity = True
    default_backend = "dlib-128"

    def __init__(
        self,
        backend: str | Backend | None = None,
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
        return {
            **super().contract(),
            "distance": self.distance,
            "normalise": self.normalise,
            "input": "whole frame",  # the backend detects and aligns the face itself
        }


class AverageEuclideanDistance(_IdentityMetric):
    """AED: `preset` "fomm" (default: squared L2 of unit embeddings, dlib-128) or "ptus" /
    "arcface" (L2 of unit ArcFace embeddings); `distance`, `normalise`, `backend` override."""

    metric_name = "aed"
    higher_is_better = False

    def __init__(
        self,
        preset: AedPreset = DEFAULT_AED_PRESET,
        distance: EmbeddingDistance | None = None,
        normalise: bool | None = None,
        backend: str | Backend | None = None,
        **kwargs: Any,
    ) -> None:
        if preset not in AED_PRESETS:
            raise ConfigError(f"AED preset must be one of {tuple(AED_PRESETS)}, got {preset!r}")
        chosen = AED_PRESETS[preset]
        distance = chosen.distance if distance is None else distance
        if distance not in DISTANCES[:3]:
            raise ConfigError(f"AED distance must be one of {DISTANCES[:3]}, got {distance!r}")
        normalise = chosen.normalise if normalise is None else normalise
        super().__init__(backend=backend or chosen.backend, normalise=normalise, **kwargs)
        self.distance = distance
        backend_name = backend.name if isinstance(backend, Backend) else backend
        same = dataclasses.replace(chosen, distance=distance, normalise=normalise)
        overridden = same != chosen or backend_name not in (None, chosen.backend)
        self.preset: str = "custom" if overridden else preset

    @property
    def unit(self) -> str:  # type: ignore[override]
        space = "unit-normalised" if self.normalise else "raw"
        return f"{self.distance} in {space} embedding space"

    def contract(self) -> dict[str, Any]:
        return {**super().contract(), "preset": self.preset}


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
    distance: EmbeddingDistance = "squared_l2",
    normalise: bool = True,
    averaging: Averaging = "frame",
    missing: MissingPolicy = "skip",
    penalty: float | None = None,
    video: Any = None,
) -> torch.Tensor:
    """Functional twin of AED on precomputed embeddings (and of CSIM with
    distance="cosine_similarity"); the defaults are the "fomm" preset's distance."""
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
