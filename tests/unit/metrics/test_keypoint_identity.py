"""AKD / FLD / MKR / AED / CSIM definitions on hand-computed cases (FOMM conventions)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from talkingub.errors import ConfigError
from talkingub.metrics import (
    AverageEuclideanDistance,
    AverageKeypointDistance,
    CosineSimilarity,
    FaceLandmarkDistance,
    MissingKeypointRate,
    average_euclidean_distance,
    average_keypoint_distance,
    cosine_similarity,
    missing_keypoint_rate,
)
from talkingub.vision import Embeddings, Keypoints


def kp(points: Any, size: tuple[int, int] = (256, 256), conf: Any = None) -> Keypoints:
    arr = np.array(points, dtype=float)
    confidence = np.ones(arr.shape[:2]) if conf is None else np.array(conf, dtype=float)
    detected = np.isfinite(arr).all(axis=(1, 2)) | np.isfinite(arr).any(axis=(1, 2))
    return Keypoints(arr, confidence, detected, size, "hand", "1")


def emb(rows: list, detected: list[bool] | None = None) -> Embeddings:
    arr = np.array(rows, dtype=float)
    found = np.array(detected if detected is not None else [True] * len(arr))
    arr[~found] = np.nan
    return Embeddings(arr, found, "hand", "1")


TARGET = kp([[[10, 10], [20, 20]], [[30, 30], [40, 40]]])
PRED = kp([[[13, 14], [20, 20]], [[30, 30], [40, 46]]])  # frame errors: (3,4) and (0,6)


def test_akd_abs_vs_euclidean() -> None:
    # abs: mean over keypoints of mean(|dx|,|dy|): frame0 (3.5+0)/2, frame1 (0+3)/2
    assert float(average_keypoint_distance(PRED, TARGET, "abs")) == pytest.approx((1.75 + 1.5) / 2)
    # euclidean: frame0 (5+0)/2, frame1 (0+6)/2
    assert float(average_keypoint_distance(PRED, TARGET, "euclidean")) == pytest.approx(2.75)


def test_akd_rescales_to_resolution() -> None:
    big_t = kp(TARGET.points * 2, size=(512, 512))
    big_p = kp(PRED.points * 2, size=(512, 512))
    assert float(
        average_keypoint_distance(big_p, big_t, "euclidean", resolution=256)
    ) == pytest.approx(2.75)
    assert float(
        average_keypoint_distance(big_p, big_t, "euclidean", resolution=None)
    ) == pytest.approx(5.5)


def test_missing_detection_skip_vs_penalise_and_rates() -> None:
    pred = kp([[[13, 14], [20, 20]], [[np.nan, np.nan], [np.nan, np.nan]]])
    assert float(average_keypoint_distance(pred, TARGET, "euclidean", missing="skip")) == 2.5
    value = average_keypoint_distance(pred, TARGET, "euclidean", missing="penalise", penalty=100.0)
    assert float(value) == pytest.approx((2.5 + 100) / 2)
    metric = AverageKeypointDistance(distance="euclidean")
    metric.update(pred, TARGET)
    result = metric.result()
    assert result.missing_rate == 0.5 and result.target_missing_rate == 0.0 and result.frames == 1


def test_target_without_detection_is_never_scored() -> None:
    target = kp([[[10, 10], [20, 20]], [[np.nan, np.nan], [np.nan, np.nan]]])
    metric = AverageKeypointDistance(distance="euclidean", missing="penalise", penalty=99.0)
    metric.update(PRED, target)
    result = metric.result()
    assert result.value == 2.5 and result.target_missing_rate == 0.5 and result.missing_rate == 0.0


def test_low_confidence_points_are_ignored() -> None:
    pred = kp(PRED.points, conf=[[0.9, 0.9], [0.9, 0.1]])
    # frame1 keeps only keypoint 0 (error 0); frame0 as before
    assert float(average_keypoint_distance(pred, TARGET, "euclidean", threshold=0.5)) == 1.25


def test_mkr_counts_ground_truth_points_lost() -> None:
    pred = kp(PRED.points, conf=[[0.9, 0.1], [0.1, 0.1]])
    assert float(missing_keypoint_rate(pred, TARGET)) == pytest.approx((0.5 + 1.0) / 2)
    metric = MissingKeypointRate()
    metric.update(pred, TARGET)
    assert metric.result().value == pytest.approx(0.75)


def test_fld_interocular_normalisation() -> None:
    target = np.zeros((1, 68, 2))
    target[0, 45] = [40.0, 0.0]  # outer eye corners 40 px apart
    pred = target.copy()
    pred[0, :, 1] += 4.0  # every landmark 4 px lower
    fld = FaceLandmarkDistance(normalise="interocular")
    fld.update(kp(pred), kp(target))
    assert fld.result().value == pytest.approx(0.1)
    assert "inter-ocular" in fld.result().unit


def test_video_averaging_differs_from_frame_averaging() -> None:
    target = kp(np.zeros((3, 1, 2)))
    pred = kp(np.array([[[1.0, 0]], [[1.0, 0]], [[4.0, 0]]]))
    frame = average_keypoint_distance(pred, target, "euclidean", averaging="frame")
    video = average_keypoint_distance(
        pred, target, "euclidean", averaging="video", video=torch.tensor([0, 0, 1])
    )
    assert float(frame) == pytest.approx(2.0) and float(video) == pytest.approx(2.5)
    with pytest.raises(ConfigError, match="video id"):
        average_keypoint_distance(pred, target, averaging="video")


def test_aed_distance_conventions() -> None:
    target = emb([[1.0, 0.0], [0.0, 2.0]])
    pred = emb([[0.0, 1.0], [0.0, 2.0]])
    s2 = math.sqrt(2)
    assert float(average_euclidean_distance(pred, target, "l2")) == pytest.approx(s2 / 2)
    assert float(average_euclidean_distance(pred, target, "squared_l2")) == pytest.approx(1.0)
    assert float(average_euclidean_distance(pred, target, "mean_abs")) == pytest.approx(0.5)
    raw = average_euclidean_distance(emb([[0.0, 3.0]]), emb([[0.0, 1.0]]), "l2", normalise=False)
    assert float(raw) == pytest.approx(2.0)


def test_identity_missing_face_policy() -> None:
    target = emb([[1.0, 0.0], [1.0, 0.0]])
    pred = emb([[1.0, 0.0], [1.0, 0.0]], detected=[True, False])
    assert float(cosine_similarity(pred, target)) == 1.0
    assert float(cosine_similarity(pred, target, missing="penalise")) == 0.5
    csim = CosineSimilarity(missing="penalise")
    csim.update(pred, target)
    assert csim.result().missing_rate == 0.5 and csim.result().value == 0.5
    aed = AverageEuclideanDistance(distance="squared_l2")
    aed.update(pred, target)
    assert aed.result().value == 0.0 and aed.result().frames == 1
    with pytest.raises(ConfigError, match="penalty"):
        AverageEuclideanDistance(missing="penalise")


def test_accumulation_equals_one_shot() -> None:
    rng = np.random.default_rng(0)
    target = kp(rng.uniform(0, 256, (10, 5, 2)), conf=rng.uniform(0, 1, (10, 5)))
    pred = kp(target.points + rng.normal(0, 3, (10, 5, 2)), conf=rng.uniform(0, 1, (10, 5)))
    ids = torch.arange(10) // 4
    for averaging in ("frame", "video"):
        metric = AverageKeypointDistance(averaging=averaging)
        for lo, hi in ((0, 3), (3, 7), (7, 10)):
            part_p = kp(pred.points[lo:hi], conf=pred.confidence[lo:hi])
            part_t = kp(target.points[lo:hi], conf=target.confidence[lo:hi])
            metric.update(part_p, part_t, video=ids[lo:hi])
        one = average_keypoint_distance(pred, target, averaging=averaging, video=ids)
        assert float(metric.compute()) == pytest.approx(float(one), abs=0)
