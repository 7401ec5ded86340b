"""Metrics for talking upper-body synthesis with explicit contracts (see docs/metrics.md).

Every metric is a `torchmetrics.Metric` with a functional twin and its facts as class
attributes (`MetricFacts`); detector-based metrics take a backend from `talkingub.vision` and
report the missing-detection rate beside the value. `MetricScorer` feeds a set of them video
by video, for `evaluate_folders` and the bench alike.
"""

from talkingub.metrics.base import FrameMetric, FrameScores, MetricFacts, MetricResult
from talkingub.metrics.catalogue import (
    DEFAULT_METRICS,
    METRICS,
    SAME_IDENTITY,
    create_metric,
    metric_class,
)
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
from talkingub.metrics.media import FrameCountError
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
from talkingub.metrics.scoring import MetricScorer
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
    "FrameCountError",
    "FrameMetric",
    "FrameScores",
    "FrechetDistance",
    "FrechetInceptionDistance",
    "FrechetVideoDistance",
    "L1Distance",
    "MetricFacts",
    "MetricResult",
    "MetricScorer",
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
    "metric_class",
    "missing_keypoint_rate",
    "psnr",
    "ssim",
    "summary_table",
]
