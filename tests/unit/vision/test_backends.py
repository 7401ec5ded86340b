"""Vision backends: registry, geometry, bundled detectors on real frames, and the file-based
backends (ArcFace ONNX, FAN TorchScript, RTMPose ONNX) loading random weight files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from talkingub.errors import ConfigError, WeightsMissingError
from talkingub.metrics.media import MediaItem, iter_frames
from talkingub.vision import create_backend, embedding_backend, keypoint_backend, list_backends
from talkingub.vision.fan import decode_heatmaps, fan_crop
from talkingub.vision.geometry import apply_affine, similarity_transform
from talkingub.vision.rtmpose_onnx import decode_simcc

BLANK = np.zeros((1, 128, 128, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def face_frames(aoc_wide_mp4: Path) -> np.ndarray:
    return np.stack(list(iter_frames(MediaItem("aoc", aoc_wide_mp4), 256, 30, 2)))


def test_registry_lists_builtin_backends() -> None:
    names = set(list_backends())
    assert {
        "mediapipe-pose",
        "dlib-68",
        "dlib-128",
        "arcface-onnx",
        "fan-2dfan4",
        "rtmpose-m-body7",
    } <= names
    with pytest.raises(ConfigError, match="unknown vision backend"):
        create_backend("nope")


def test_images_must_be_uint8_nhwc() -> None:
    backend = create_backend("dlib-68")
    with pytest.raises(ConfigError):
        backend(np.zeros((1, 3, 32, 32), dtype=np.uint8))
    with pytest.raises(ConfigError):
        backend(np.zeros((1, 32, 32, 3), dtype=np.float32))


def test_similarity_transform_recovers_known_transform() -> None:
    src = np.array([[0.0, 0], [10, 0], [0, 5], [7, 9], [3, 2]])
    angle, scale, shift = 0.3, 1.7, np.array([4.0, -2.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = scale * src @ rot.T + shift
    matrix = similarity_transform(src, dst)
    np.testing.assert_allclose(apply_affine(matrix, src), dst, atol=1e-9)


def test_dlib_and_mediapipe_on_real_frames(face_frames: np.ndarray) -> None:
    landmarks = keypoint_backend("dlib-68")(
        np.concatenate([face_frames, np.zeros_like(face_frames[:1])])
    )
    assert landmarks.detected.tolist() == [True, True, False]
    assert np.isnan(landmarks.points[2]).all() and landmarks.points.shape == (3, 68, 2)
    inside = (landmarks.points[:2] >= 0) & (landmarks.points[:2] < 256)
    assert inside.all()
    ids = embedding_backend("dlib-128")(face_frames[:1])
    assert ids.vectors.shape == (1, 128) and ids.detected.all()
    pose = keypoint_backend("mediapipe-pose")(
        np.concatenate([face_frames[:1], BLANK[:, :1, :1].repeat(256, 1).repeat(256, 2)])
    )
    assert pose.detected.tolist() == [True, False] and pose.points.shape == (2, 33, 2)
    nose, shoulders = pose.points[0, 0], pose.points[0, [11, 12]]
    assert (shoulders[:, 1] > nose[1]).all()  # shoulders below the nose


def test_file_backends_need_weights() -> None:
    for name, weights in (
        ("arcface-onnx", "arcface-w600k-r50"),
        ("fan-2dfan4", "fan-2dfan4"),
        ("rtmpose-m-body7", "rtmpose-m-body7"),
    ):
        with pytest.raises(WeightsMissingError, match=f"talkingub weights fetch {weights}"):
            create_backend(name)


def export_onnx(
    module: torch.nn.Module, shape: tuple[int, ...], path: Path, outputs: list[str]
) -> Path:
    torch.manual_seed(0)
    torch.onnx.export(
        module.eval(),
        (torch.zeros(*shape),),
        str(path),
        dynamo=False,
        input_names=["input"],
        output_names=outputs,
    )
    return path


class TinyArcFace(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 5, stride=4)
        self.fc = torch.nn.Linear(8, 512)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).mean(dim=(2, 3)))


def test_arcface_onnx_with_random_weights(tmp_path: Path, face_frames: np.ndarray) -> None:
    path = export_onnx(TinyArcFace(), (1, 3, 112, 112), tmp_path / "w600k_r50.onnx", ["embedding"])
    backend = embedding_backend("arcface-onnx", weights=path)
    out = backend(np.concatenate([face_frames[:1], np.zeros_like(face_frames[:1])]))
    assert out.vectors.shape == (2, 512) and out.detected.tolist() == [True, False]
    assert np.isfinite(out.vectors[0]).all() and np.isnan(out.vectors[1]).all()
    assert "w600k_r50.onnx@" in backend.version


class TinyFan(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 68, 4, stride=4)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self.conv(x).sigmoid()]


def test_fan_torchscript_with_random_weights(tmp_path: Path, face_frames: np.ndarray) -> None:
    path = tmp_path / "2DFAN4.zip"
    torch.jit.script(TinyFan()).save(str(path))
    backend = keypoint_backend("fan-2dfan4", weights=path)
    out = backend(face_frames[:1])
    assert out.detected.all() and out.points.shape == (1, 68, 2)
    box = backend._faces.face_boxes(face_frames[:1])[0]  # type: ignore[attr-defined]
    center, side = fan_crop(box)
    assert (np.abs(out.points[0] - center) <= side / 2).all()  # points lie in the crop
    assert (out.confidence >= 0).all() and (out.confidence <= 1).all()


def test_decoders_on_hand_made_maps() -> None:
    heat = np.zeros((1, 8, 8))
    heat[0, 2, 5], heat[0, 2, 6] = 1.0, 0.5  # peak at x=5,y=2 leaning right
    points, peak = decode_heatmaps(heat)
    np.testing.assert_allclose(points[0], [5.75, 2.5])
    assert peak[0] == 1.0
    simcc_x, simcc_y = np.zeros((1, 384)), np.zeros((1, 512))
    simcc_x[0, 100], simcc_y[0, 300] = 0.9, 0.7
    pts, scores = decode_simcc(simcc_x, simcc_y)
    np.testing.assert_allclose(pts[0], [50.0, 150.0])
    assert scores[0] == pytest.approx(0.7)


class TinyRtmpose(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pool = torch.nn.AdaptiveAvgPool2d((4, 4))
        self.fx = torch.nn.Linear(48, 17 * 384)
        self.fy = torch.nn.Linear(48, 17 * 512)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.pool(x).flatten(1)
        return self.fx(h).view(-1, 17, 384), self.fy(h).view(-1, 17, 512)


def test_rtmpose_onnx_with_random_weights(tmp_path: Path, face_frames: np.ndarray) -> None:
    path = export_onnx(
        TinyRtmpose(), (1, 3, 256, 192), tmp_path / "rtm.onnx", ["simcc_x", "simcc_y"]
    )
    frames = face_frames[:, :, :200]  # non-square: 256 x 200
    out = keypoint_backend("rtmpose-m-body7", weights=path)(np.ascontiguousarray(frames))
    assert out.points.shape == (2, 17, 2) and out.detected.all()
    # the padded box is 1.25x the frame: points land within it
    assert (out.points[..., 0] > -0.2 * 200).all() and (out.points[..., 0] < 1.2 * 200).all()
    assert (out.points[..., 1] > -0.2 * 256).all() and (out.points[..., 1] < 1.2 * 256).all()
