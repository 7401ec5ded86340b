"""Metric names -> factories, with the defaults the bench uses (`METRICS` registry)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torchmetrics import Metric

from talkingub.registry import Registry

MetricFactory = Callable[..., Metric]
METRICS: Registry[MetricFactory] = Registry("metric")

# PTUS Table 1 same-identity set, then the wider set of later work.
SAME_IDENTITY = ("l1", "akd", "aed", "fld")
DEFAULT_METRICS = ("l1", "akd", "mkr", "aed", "csim", "fld", "psnr", "ssim")
# Which weights a metric needs by default (None: bundled in packages).
WEIGHTS_NEEDED = {"lpips": "alexnet-lpips", "fid": "inception-fid", "fvd": "i3d-fvd"}


def _l1(**kw: Any) -> Metric:
    from talkingub.metrics.pixel import L1Distance

    return L1Distance(**kw)


def _psnr(**kw: Any) -> Metric:
    from talkingub.metrics.pixel import PSNR

    return PSNR(**kw)


def _ssim(**kw: Any) -> Metric:
    from talkingub.metrics.pixel import SSIM

    return SSIM(**kw)


def _lpips(**kw: Any) -> Metric:
    from talkingub.metrics.pixel import LPIPS

    return LPIPS(**kw)


def _akd(**kw: Any) -> Metric:
    from talkingub.metrics.keypoints import AverageKeypointDistance

    return AverageKeypointDistance(**kw)


def _mkr(**kw: Any) -> Metric:
    from talkingub.metrics.keypoints import MissingKeypointRate

    return MissingKeypointRate(**kw)


def _fld(**kw: Any) -> Metric:
    from talkingub.metrics.keypoints import FaceLandmarkDistance

    return FaceLandmarkDistance(**kw)


def _aed(**kw: Any) -> Metric:
    from talkingub.metrics.identity import AverageEuclideanDistance

    return AverageEuclideanDistance(**kw)


def _csim(**kw: Any) -> Metric:
    from talkingub.metrics.identity import CosineSimilarity

    return CosineSimilarity(**kw)


def _fid(**kw: Any) -> Metric:
    from talkingub.metrics.frechet import FrechetInceptionDistance

    return FrechetInceptionDistance(**kw)


def _fvd(**kw: Any) -> Metric:
    from talkingub.metrics.frechet import FrechetVideoDistance

    return FrechetVideoDistance(**kw)


for _name, _factory, _text in (
    ("l1", _l1, "mean absolute pixel difference"),
    ("psnr", _psnr, "peak signal-to-noise ratio"),
    ("ssim", _ssim, "structural similarity"),
    ("lpips", _lpips, "learned perceptual distance (AlexNet)"),
    ("akd", _akd, "average keypoint distance (body pose)"),
    ("mkr", _mkr, "missing keypoint rate"),
    ("fld", _fld, "face landmark distance (68 points)"),
    ("aed", _aed, "average embedding distance (identity)"),
    ("csim", _csim, "cosine similarity of identity embeddings"),
    ("fid", _fid, "Fréchet Inception distance"),
    ("fvd", _fvd, "Fréchet video distance"),
):
    METRICS.add(_name, _factory, description=_text)


def create_metric(name: str, **options: Any) -> Metric:
    return METRICS.get(name)(**options)
