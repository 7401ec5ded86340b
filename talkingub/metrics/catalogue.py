"""Metric names -> classes (`METRICS` registry), with the default sets of the CLI and the bench.

Each class carries its facts as class attributes (`talkingub.metrics.base.MetricFacts`:
direction, kind, weights, default backend, ...), so `metric_class(name)` answers questions
about a metric without building it or loading its weights.
"""

from __future__ import annotations

from typing import Any

from talkingub.metrics.base import FrameMetric
from talkingub.metrics.frechet import (
    FrechetDistance,
    FrechetInceptionDistance,
    FrechetVideoDistance,
)
from talkingub.metrics.identity import AverageEuclideanDistance, CosineSimilarity
from talkingub.metrics.keypoints import (
    AverageKeypointDistance,
    FaceLandmarkDistance,
    MissingKeypointRate,
)
from talkingub.metrics.pixel import LPIPS, PSNR, SSIM, L1Distance
from talkingub.registry import Registry

# Every metric is a torchmetrics.Metric of one of the two kinds (`MetricFacts.kind`).
ScoredMetric = FrameMetric | FrechetDistance
METRICS: Registry[type[ScoredMetric]] = Registry("metric")

# PTUS Table 1 same-identity set, then the wider set of later work.
SAME_IDENTITY = ("l1", "akd", "aed", "fld")
DEFAULT_METRICS = ("l1", "akd", "mkr", "aed", "csim", "fld", "psnr", "ssim")

for _name, _class, _text in (
    ("l1", L1Distance, "mean absolute pixel difference"),
    ("psnr", PSNR, "peak signal-to-noise ratio"),
    ("ssim", SSIM, "structural similarity"),
    ("lpips", LPIPS, "learned perceptual distance (AlexNet)"),
    ("akd", AverageKeypointDistance, "average keypoint distance (body pose, or 68 face points)"),
    ("mkr", MissingKeypointRate, "missing keypoint rate"),
    ("fld", FaceLandmarkDistance, "face landmark distance (68 points)"),
    ("aed", AverageEuclideanDistance, "average embedding distance (identity; FOMM preset)"),
    ("csim", CosineSimilarity, "cosine similarity of identity embeddings"),
    ("fid", FrechetInceptionDistance, "Fréchet Inception distance"),
    ("fvd", FrechetVideoDistance, "Fréchet video distance"),
):
    METRICS.add(_name, _class, description=_text)


def metric_class(name: str) -> type[ScoredMetric]:
    """The class registered as `name` (its facts are class attributes); `ConfigError` names
    the known metrics when there is none."""
    return METRICS.get(name)


def create_metric(name: str, **options: Any) -> ScoredMetric:
    return metric_class(name)(**options)
