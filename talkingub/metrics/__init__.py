"""Metrics for talking upper-body synthesis with explicit contracts (see docs/metrics.md).

Every metric is a `torchmetrics.Metric` with a functional twin; detector-based metrics take
a backend from `talkingub.vision` and report the missing-detection rate beside the value.
"""

from talkingub.metrics.base import FrameMetric, FrameScores, MetricResult
from talkingub.metrics.catalog import DEFAULT_METRICS, METRICS, SAME_IDENTITY, create_metric
from talkingub.metrics.evaluate import Evaluation, EvaluationConfig, evaluate_folders, summary_table
from talkingub.metrics.frechet import (
    ClipStream,
    FrechetDistance,
    FrechetInceptionDistance,
    FrechetVideoDistance,
    frechet_distance,
    frechet_from_features,
)
from talkingub.metrics.identity import (
    AverageEuclideanDistance,
    CosineSimilarity,
    average_euclidean_distance,
    cosine_similarity,
)
from talkingub.metrics.keypoints import (
    AverageKeypointDistance,
    FaceLandmarkDistance,
    MissingKeypointRate,
    average_keypoint_distance,
    missing_keypoint_rate,
)
from talkingub.metrics.pixel import (
    LPIPS,
    PSNR,
    SSIM,
    L1Distance,
    l1_distance,
    lpips,
    psnr,
    ssim,
)
from talkingub.metrics.suite import MetricSet, build_metric_set

__all__ = [
    "DEFAULT_METRICS",
    "LPIPS",
    "METRICS",
    "PSNR",
    "SAME_IDENTITY",
    "SSIM",
    "AverageEuclideanDistance",
    "AverageKeypointDistance",
    "ClipStream",
    "CosineSimilarity",
    "Evaluation",
    "EvaluationConfig",
    "FaceLandmarkDistance",
    "FrameMetric",
    "FrameScores",
    "FrechetDistance",
    "FrechetInceptionDistance",
    "FrechetVideoDistance",
    "L1Distance",
    "MetricResult",
    "MetricSet",
    "MissingKeypointRate",
    "average_euclidean_distance",
    "average_keypoint_distance",
    "build_metric_set",
    "cosine_similarity",
    "create_metric",
    "evaluate_folders",
    "frechet_distance",
    "frechet_from_features",
    "l1_distance",
    "lpips",
    "missing_keypoint_rate",
    "psnr",
    "ssim",
    "summary_table",
]
