"""RTMPose backend detection threshold: keypoints scoring below it are not detected, a frame
with none at or above it has no person, so AKD's missing rate and MKR mean something. The ONNX
files are exported by the test with SimCC maxima set by hand (the real weights are not here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from talkingub.metrics import AverageKeypointDistance, MissingKeypointRate
from talkingub.vision import keypoint_backend
from talkingub.vision.rtmpose_onnx import KEYPOINT_THRESHOLD

K, WX, WY = 17, 192 * 2, 256 * 2


class FixedSimcc(torch.nn.Module):
    """SimCC logits whose maximum for keypoint k is `peaks[k]` (at x bin 2k, y bin 4k) for a
    grey frame, and all zero for a black one."""

    def __init__(self, peaks: list[float]) -> None:
        super().__init__()
        x, y = torch.zeros(K, WX), torch.zeros(K, WY)
        for k, peak in enumerate(peaks):
            x[k, 2 * k], y[k, 4 * k] = peak, peak
        self.register_buffer("x", x)
        self.register_buffer("y", y)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # ImageNet-normalised input: black ≈ -2 everywhere; a grey frame inside the black
        # padding of the 1.25x box averages about -0.5
        gain = (image.mean(dim=(1, 2, 3)) > -1.0).float()[:, None, None]
        return self.x[None] * gain, self.y[None] * gain


PEAKS = [0.9] * 12 + [0.2] * 5  # 12 keypoints above the 0.3 threshold, 5 below


@pytest.fixture(scope="module")
def rtmpose_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rtm") / "rtmpose.onnx"
    torch.onnx.export(
        FixedSimcc(PEAKS).eval(),
        (torch.zeros(1, 3, 256, 192),),
        str(path),
        dynamo=False,
        input_names=["input"],
        output_names=["simcc_x", "simcc_y"],
    )
    return path


def frames() -> np.ndarray:
    grey = np.full((1, 96, 72, 3), 128, dtype=np.uint8)
    black = np.zeros_like(grey)
    return np.concatenate([grey, black])


def test_keypoints_below_the_threshold_and_empty_frames_are_not_detected(
    rtmpose_file: Path,
) -> None:
    assert KEYPOINT_THRESHOLD == 0.3
    backend = keypoint_backend("rtmpose-m-body7", weights=rtmpose_file)
    out = backend(frames())
    assert out.detected.tolist() == [True, False]  # the black frame: every score ~0 < 0.3
    found = np.isfinite(out.points[0]).all(axis=1)
    assert found.tolist() == [True] * 12 + [False] * 5
    np.testing.assert_allclose(out.confidence[0], PEAKS, rtol=1e-3)  # scores are kept
    assert np.isnan(out.points[1]).all()
    assert "thr=0.3" in backend.version
    loose = keypoint_backend("rtmpose-m-body7", weights=rtmpose_file, threshold=0.1)
    assert np.isfinite(loose(frames()).points[0]).all()


def test_mkr_and_missing_rate_with_rtmpose_detections(rtmpose_file: Path) -> None:
    backend = keypoint_backend("rtmpose-m-body7", weights=rtmpose_file)
    grey, black = frames()[:1], frames()[1:]
    truth = backend(np.concatenate([grey, grey]))
    generated = backend(np.concatenate([grey, black]))
    mkr = MissingKeypointRate(backend="rtmpose-m-body7")
    mkr.update(generated, truth)
    assert mkr.result().value == pytest.approx(0.5)  # frame 1: all 12 keypoints lost
    akd = AverageKeypointDistance(backend="rtmpose-m-body7")
    akd.update(generated, truth)
    result = akd.result()
    assert result.missing_rate == 0.5 and result.value == 0.0 and result.frames == 1
