"""The metric contracts fixed against the original code (issue 16): AED presets (FOMM's squared
L2 of unit embeddings, PTUS's ArcFace), face AKD on 68 points (pose-evaluation `cmp_kp.py`),
keypoint thresholds per backend, PSNR capped for identical frames, SSIM's border, FID's resize
to 299 (torch-fidelity or clean-fid), FVD one clip per video. Each is recorded in `contract`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.metrics import structural_similarity

from talkingub.errors import ConfigError
from talkingub.metrics import (
    PSNR,
    SSIM,
    AverageEuclideanDistance,
    AverageKeypointDistance,
    ClipStream,
    FaceLandmarkDistance,
    MissingKeypointRate,
    frechet,
    psnr,
    ssim,
)
from talkingub.metrics.frechet import FrechetInceptionDistance, clean_resize, inception_inputs
from talkingub.vision import Embeddings, Keypoints


def emb(rows: Any, detected: list[bool] | None = None) -> Embeddings:
    arr = np.array(rows, dtype=float)
    found = np.array(detected if detected is not None else [True] * len(arr))
    arr[~found] = np.nan
    return Embeddings(arr, found, "hand", "1")


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# ---- AED presets -------------------------------------------------------------------------


def test_aed_default_is_fomm_squared_l2_of_unit_embeddings() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 128)) * 3, rng.normal(size=(6, 128))
    aed = AverageEuclideanDistance()
    assert aed.backend_name == "dlib-128"  # until detections of another backend arrive
    aed.update(emb(a), emb(b))
    result = aed.result()
    # pose-evaluation cmp.py since 5a5c45e: np.sum(np.abs(a - b) ** 2) per frame, np.mean
    expected = np.mean([np.sum(np.abs(x - y) ** 2) for x, y in zip(unit(a), unit(b))])
    assert result.value == pytest.approx(expected, rel=1e-12)
    assert result.contract["preset"] == "fomm" and result.contract["distance"] == "squared_l2"
    assert result.contract["normalise"] is True and result.contract["input"] == "whole frame"
    assert result.unit == "squared_l2 in unit-normalised embedding space"
    # the mean absolute difference (the docs' former claim) is a different number
    mean_abs = np.mean(np.abs(unit(a) - unit(b)))
    assert not math.isclose(result.value, mean_abs, rel_tol=1e-3)


def test_aed_ptus_and_arcface_presets_use_arcface_l2() -> None:
    for name in ("ptus", "arcface"):
        aed = AverageEuclideanDistance(preset=name)  # type: ignore[arg-type]
        assert aed.backend_name == "arcface-onnx"  # the backend loads lazily: no weights here
        assert aed.distance == "l2" and aed.normalise is True
        assert aed.contract()["preset"] == name
    a, b = np.eye(3)[:2] * 5, np.eye(3)[1:] * 2
    aed = AverageEuclideanDistance(preset="ptus")
    aed.update(emb(a), emb(b))
    assert aed.result().value == pytest.approx(math.sqrt(2))


def test_aed_explicit_options_override_the_preset_and_say_custom() -> None:
    a, b = [[1.0, 0.0]], [[0.0, 1.0]]
    aed = AverageEuclideanDistance(distance="mean_abs")  # the old option keeps working
    aed.update(emb(a), emb(b))
    assert aed.result().value == pytest.approx(1.0)
    assert aed.contract()["preset"] == "custom" and aed.contract()["distance"] == "mean_abs"
    same = AverageEuclideanDistance(preset="fomm", distance="squared_l2", backend="dlib-128")
    assert same.contract()["preset"] == "fomm"  # restating the preset is not an override
    other = AverageEuclideanDistance(preset="fomm", backend="arcface-onnx")
    assert other.contract()["preset"] == "custom"
    raw = AverageEuclideanDistance(preset="ptus", normalise=False)
    assert raw.contract()["preset"] == "custom" and raw.backend_name == "arcface-onnx"
    with pytest.raises(ConfigError, match="preset must be one of"):
        AverageEuclideanDistance(preset="openface")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="distance must be one of"):
        AverageEuclideanDistance(distance="cosine_similarity")


# ---- keypoints: face AKD, thresholds ------------------------------------------------------


def face(points: np.ndarray, detected: list[bool] | None = None) -> Keypoints:
    points = np.array(points, dtype=float)
    found = np.array(detected if detected is not None else [True] * len(points))
    points[~found] = np.nan
    conf = np.where(found[:, None], 1.0, 0.0) * np.ones(points.shape[:2])
    return Keypoints(points, conf, found, (256, 256), "dlib-68", "1")


def test_face_akd_is_cmp_kp_on_68_points() -> None:
    rng = np.random.default_rng(1)
    gt = rng.uniform(60, 200, (4, 68, 2))
    gen = gt + rng.normal(0, 2, gt.shape)
    metric = AverageKeypointDistance(points="face68")
    assert metric.backend_name == "dlib-68" and metric.distance == "abs"
    metric.update(face(gen, [True, True, False, True]), face(gt))
    result = metric.result()
    # cmp_kp.py: frames whose generated detection is None are skipped; per frame
    # np.mean(np.abs(gt - gen)) over the 68 x 2 coordinates; np.mean over frames
    expected = np.mean([np.mean(np.abs(gt[i] - gen[i])) for i in (0, 1, 3)])
    assert result.value == pytest.approx(expected, rel=1e-12)
    assert result.missing_rate == 0.25 and result.frames == 3
    assert result.contract["points"] == "face68" and result.contract["resolution"] == 256
    fan = AverageKeypointDistance(points="face68", backend="fan-2dfan4")
    assert fan.threshold == 0.0  # face-alignment returns all 68 points of a found face
    body = Keypoints(np.zeros((1, 33, 2)), np.ones((1, 33)), np.ones(1, bool), (9, 9), "x", "1")
    with pytest.raises(ConfigError, match="68 face landmarks; backend 'x' gives 33"):
        AverageKeypointDistance(points="face68").update(body, body)
    with pytest.raises(ConfigError, match="points must be one of"):
        AverageKeypointDistance(points="hands")  # type: ignore[arg-type]
    assert AverageKeypointDistance().contract()["points"] == "body"


def test_keypoint_thresholds_default_per_backend() -> None:
    assert AverageKeypointDistance().threshold == 0.5  # mediapipe-pose visibility
    assert AverageKeypointDistance(backend="rtmpose-m-body7").threshold == 0.0
    assert MissingKeypointRate(backend="rtmpose-m-body7").threshold == 0.0
    assert FaceLandmarkDistance(backend="fan-2dfan4").threshold == 0.0
    assert FaceLandmarkDistance().threshold == 0.5
    assert AverageKeypointDistance(backend="rtmpose-m-body7", threshold=0.7).threshold == 0.7
    assert MissingKeypointRate(backend="rtmpose-m-body7").contract()["threshold"] == 0.0


def test_mkr_counts_keypoints_a_backend_left_undetected() -> None:
    # what the RTMPose backend returns now: NaN below its score threshold, frame undetected
    # when no keypoint passes (the scores stay in `confidence`)
    gt = np.tile(np.arange(17.0)[:, None], (2, 1, 2))
    pred = gt.copy()
    pred[0, :5] = np.nan  # 5 of 17 below threshold
    pred[1] = np.nan  # none: no person
    conf = np.full((2, 17), 0.25)
    generated = Keypoints(pred, conf, np.array([True, False]), (64, 64), "rtmpose-m-body7", "1")
    truth = Keypoints(gt, np.ones((2, 17)), np.ones(2, bool), (64, 64), "rtmpose-m-body7", "1")
    mkr = MissingKeypointRate(backend="rtmpose-m-body7")
    mkr.update(generated, truth)
    assert mkr.result().value == pytest.approx((5 / 17 + 1) / 2)
    akd = AverageKeypointDistance(backend="rtmpose-m-body7")
    akd.update(generated, truth)
    assert akd.result().missing_rate == 0.5 and akd.result().value == 0.0


# ---- PSNR cap -----------------------------------------------------------------------------


def frames(seed: int, n: int = 3, size: int = 40) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, 5, 5, generator=g)
    return torch.nn.functional.interpolate(low, size=(size, size), mode="bilinear")


def test_psnr_of_identical_frames_is_capped_at_100_db() -> None:
    target = frames(1)
    pred = target.clone()
    pred[1:] = (pred[1:] + 0.05).clamp(0, 1)  # frame 0 identical
    metric = PSNR()
    metric.update(pred, target)
    result = metric.result()
    per_frame = [
        10 * np.log10(1 / np.mean((pred[i] - target[i]).double().numpy() ** 2)) for i in (1, 2)
    ]
    assert math.isfinite(result.value)
    assert result.value == pytest.approx((100.0 + sum(per_frame)) / 3, rel=1e-9)
    assert result.contract["max_db"] == 100.0 and "capped at 100" in result.unit
    assert float(psnr(target, target)) == 100.0
    assert float(psnr(target, target, max_db=60.0)) == 60.0
    with pytest.raises(ConfigError, match="max_db"):
        PSNR(max_db=0)


# ---- SSIM border --------------------------------------------------------------------------


def skimage_ssim(pred: torch.Tensor, target: torch.Tensor) -> float:
    values = [
        structural_similarity(
            t.double().numpy().transpose(1, 2, 0),
            p.double().numpy().transpose(1, 2, 0),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
            channel_axis=2,
        )
        for p, t in zip(pred, target)
    ]
    return float(np.mean(values))


def test_ssim_valid_border_equals_scikit_image_and_reflect_is_the_default() -> None:
    target = frames(2, n=2, size=64)
    noise = torch.rand(target.shape, generator=torch.Generator().manual_seed(3)) * 0.2
    pred = (target + noise).clamp(0, 1)
    expected = skimage_ssim(pred, target)
    valid = float(ssim(pred, target, border="valid"))
    reflect = float(ssim(pred, target))
    assert valid == pytest.approx(expected, abs=1e-5)
    assert abs(reflect - expected) > 1e-3  # 64 px: the border windows weigh in
    metric = SSIM(border="valid")
    metric.update(pred, target)
    assert metric.result().contract["border"] == "valid" and "border=valid" in metric.unit
    assert SSIM().contract()["border"] == "reflect"
    with pytest.raises(ConfigError, match="border must be one of"):
        SSIM(border="same")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="larger than 11 px"):
        ssim(pred[..., :10, :10], target[..., :10, :10], border="valid")


# ---- FID resize ---------------------------------------------------------------------------


def test_clean_resize_is_pil_bicubic_per_float_channel() -> None:
    images = (frames(4, n=2, size=48) * 255).round().to(torch.uint8)
    out = clean_resize(images)
    assert out.shape == (2, 3, 299, 299) and out.dtype == torch.float32
    for i in range(2):
        for c in range(3):
            plane = images[i, c].numpy().astype(np.float32)
            by_hand = Image.fromarray(plane, mode="F").resize((299, 299), Image.BICUBIC)
            np.testing.assert_array_equal(out[i, c].numpy(), np.asarray(by_hand))
    as_fed = inception_inputs(images, "clean")
    assert as_fed.dtype == torch.uint8 and as_fed.shape == (2, 3, 299, 299)
    assert torch.equal(as_fed, out.round().clamp(0, 255).to(torch.uint8))
    assert torch.equal(inception_inputs(images), images)  # torch-fidelity resizes itself
    with pytest.raises(ConfigError, match="resize must be one of"):
        inception_inputs(images, "bilinear")  # type: ignore[arg-type]


class RecordingInception(torch.nn.Module):
    """Stands in for `InceptionFeatures`: records the resize and returns 2048-d features."""

    def __init__(self, weights: Any = None, resize: str = "torch-fidelity") -> None:
        super().__init__()
        self.resize = resize

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return inception_inputs(x, self.resize).float().mean(dim=(2, 3)).repeat(1, 683)[:, :2048]


def test_fid_records_its_resize(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frechet, "InceptionFeatures", RecordingInception)
    fid = FrechetInceptionDistance(resize="clean")
    assert fid.extractor.resize == "clean"
    assert fid.contract() == {"resize": "clean", "samples": "frames"}
    assert FrechetInceptionDistance().contract()["resize"] == "torch-fidelity"
    with pytest.raises(ConfigError, match="resize must be one of"):
        FrechetInceptionDistance(resize="pil")  # type: ignore[arg-type]


# ---- FVD one clip per video ---------------------------------------------------------------


def test_clip_stream_stops_after_max_clips() -> None:
    video = torch.arange(11)
    stream = ClipStream(4, max_clips=1)
    chunks = [stream.push(batch) for batch in video.split(3)]
    assert [len(c) for c in chunks] == [0, 4, 0, 0]
    assert torch.equal(torch.cat(chunks), video[:4])
    everything = ClipStream(4)
    assert torch.equal(torch.cat([everything.push(b) for b in video.split(3)]), video[:8])
