"""Metrics on real peer media: a clip against itself and shifted copies, identity metrics on
the same vs different people, the `talkingub metrics` CLI computing the full same-identity set
on real video files and writing JSON/Parquet, and parity of the fixed contracts with their
references on real frames (FOMM AED, face AKD, scikit-image SSIM, PSNR of identical frames)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from skimage.metrics import structural_similarity

from talkingub.cli import main
from talkingub.metrics import (
    PSNR,
    SSIM,
    AverageEuclideanDistance,
    AverageKeypointDistance,
    average_euclidean_distance,
    cosine_similarity,
    evaluate_folders,
)
from talkingub.metrics.media import MediaItem, iter_frames
from talkingub.vision import Embeddings, embedding_backend, keypoint_backend
from tests.support.media import read_frames, write_video

SHIFTS = (0, 4, 12)
SAME_IDENTITY_SET = ("l1", "psnr", "ssim", "akd", "mkr", "fld", "aed", "csim")
DETECTOR_METRICS = ("akd", "mkr", "fld", "aed", "csim")


def shifted(frame: np.ndarray, k: int) -> np.ndarray:
    """Content moved k px right and down (edges repeated)."""
    if k == 0:
        return frame
    padded = np.pad(frame, ((k, 0), (k, 0), (0, 0)), mode="edge")
    return padded[: frame.shape[0], : frame.shape[1]]


@pytest.fixture(scope="module")
def shift_folders(presenter_chest_up_mp4: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shifts")
    frames = list(iter_frames(MediaItem("p", presenter_chest_up_mp4), 256, 40, 3))
    for k in SHIFTS:
        folder = root / f"shift{k}" / "clip"
        folder.mkdir(parents=True)
        for i, frame in enumerate(frames):
            Image.fromarray(shifted(frame, k)).save(folder / f"{i:03d}.png")
    return root


@pytest.mark.slow
def test_akd_fld_zero_for_self_and_grow_with_shift(shift_folders: Path) -> None:
    values: dict[int, dict[str, float]] = {}
    for k in SHIFTS:
        ev = evaluate_folders(
            shift_folders / f"shift{k}",
            shift_folders / "shift0",
            metrics=("l1", "akd", "fld"),
            size=None,
        )
        values[k] = {r.name: r.value for r in ev.results}
        assert all(r.missing_rate in (None, 0.0) for r in ev.results)
    assert values[0] == {"l1": 0.0, "akd": 0.0, "fld": 0.0}
    for name in ("l1", "akd", "fld"):
        assert values[0][name] < values[4][name] < values[12][name], name
    # a (k, k) shift is k px per coordinate (AKD "abs") and k·√2 px per point (FLD Euclidean)
    assert values[12]["akd"] == pytest.approx(12, rel=0.35)
    assert values[12]["fld"] == pytest.approx(12 * np.sqrt(2), rel=0.35)


@pytest.mark.slow
def test_identity_same_person_closer_than_different(
    aoc_hdtf_mp4: Path, aoc_wide_mp4: Path, swalwell_mp4: Path
) -> None:
    backend = embedding_backend("dlib-128")

    def embed(path: Path) -> Embeddings:
        return backend(np.stack(list(iter_frames(MediaItem("x", path), 256, 40, 3))))

    ref, same, other = embed(aoc_hdtf_mp4), embed(aoc_wide_mp4), embed(swalwell_mp4)
    aed_same = float(average_euclidean_distance(same, ref))
    aed_other = float(average_euclidean_distance(other, ref))
    csim_same = float(cosine_similarity(same, ref))
    csim_other = float(cosine_similarity(other, ref))
    assert aed_same < aed_other and csim_same > csim_other
    assert np.isfinite([aed_same, aed_other]).all()


@pytest.fixture(scope="module")
def video_folders(presenter_chest_up_mp4: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gt/clip.mp4: 3 frames of the presenter; pred/clip.mp4: the same shifted by 6 px (H.264)."""
    root = tmp_path_factory.mktemp("videos")
    frames = read_frames(presenter_chest_up_mp4, size=256, limit=3)
    for folder, clip in (("gt", frames), ("pred", [shifted(f, 6) for f in frames])):
        (root / folder).mkdir()
        write_video(root / folder / "clip.mp4", clip)
    return root


@pytest.mark.slow
def test_cli_same_identity_set_on_real_videos(video_folders: Path, tmp_path: Path) -> None:
    out_json, out_parquet = tmp_path / "r.json", tmp_path / "r.parquet"
    result = CliRunner().invoke(
        main,
        [
            "metrics",
            str(video_folders / "pred"),
            str(video_folders / "gt"),
            "-m",
            ",".join(SAME_IDENTITY_SET),
            "--set",
            "aed.distance=mean_abs",
            "-o",
            str(out_json),
            "-o",
            str(out_parquet),
        ],
    )
    assert result.exit_code == 0, result.output
    # the table is on stdout (the progress bars, on stderr, mention "metrics" too)
    header = next(line for line in result.stdout.splitlines() if "metric" in line)
    assert all(column in header for column in ("unit", "missing", "gt missing", "backend"))
    assert "1 item(s), 3 frame pairs" in result.output
    records = json.loads(out_json.read_text())["results"]
    assert [r["name"] for r in records] == list(SAME_IDENTITY_SET)
    for record in records:
        assert record["value"] is not None and math.isfinite(record["value"]), record
        assert record["unit"] and record["unit"] in result.output, record
        assert record["frames"] == 3 or record["name"] in DETECTOR_METRICS, record
    detected = {r["name"]: r for r in records if r["name"] in DETECTOR_METRICS}
    assert all(
        r["missing_rate"] == 0.0 and r["target_missing_rate"] == 0.0 for r in detected.values()
    )
    assert result.output.count("0.0%") >= 2 * len(DETECTOR_METRICS)
    assert detected["akd"]["unit"].startswith("px at 256x256") and detected["akd"]["value"] > 1
    assert detected["aed"]["contract"]["distance"] == "mean_abs"
    assert detected["aed"]["contract"]["preset"] == "custom"  # distance overrode "fomm"
    assert detected["akd"]["backend"] == "mediapipe-pose"
    table = pd.read_parquet(out_parquet)
    assert list(table["name"]) == list(SAME_IDENTITY_SET)
    assert np.isfinite(table["value"]).all()
    assert np.isfinite(table.set_index("name").loc[list(DETECTOR_METRICS), "missing_rate"]).all()


def test_missing_weights_fail_or_report_na(shift_folders: Path) -> None:
    args = [
        "metrics",
        str(shift_folders / "shift0"),
        str(shift_folders / "shift0"),
        "-m",
        "l1,lpips",
        "--max-frames",
        "1",
    ]
    failed = CliRunner().invoke(main, args)
    assert failed.exit_code == 3
    assert "talkingub weights fetch alexnet-lpips" in failed.output
    ev = evaluate_folders(
        shift_folders / "shift0",
        shift_folders / "shift0",
        metrics=("l1", "lpips"),
        max_frames=1,
        on_missing_weights="na",
    )
    lpips = ev.results[1]
    assert np.isnan(lpips.value) and "talkingub weights fetch alexnet-lpips" in lpips.note


def chw(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)


@pytest.fixture(scope="module")
def two_people(aoc_wide_mp4: Path, swalwell_mp4: Path) -> tuple[np.ndarray, np.ndarray]:
    """3 frames of each person, 256 px."""
    aoc = np.stack(list(iter_frames(MediaItem("a", aoc_wide_mp4), 256, 30, 3)))
    other = np.stack(list(iter_frames(MediaItem("s", swalwell_mp4), 256, 30, 3)))
    return aoc, other


@pytest.mark.slow
def test_fomm_aed_is_squared_l2_of_unit_embeddings_on_real_frames(
    two_people: tuple[np.ndarray, np.ndarray],
) -> None:
    aoc, other = two_people
    generated = np.concatenate([aoc[1:], other[:1]])  # same person twice, then another
    truth = aoc[[0, 0, 0]]
    backend = embedding_backend("dlib-128")
    aed = AverageEuclideanDistance(preset="fomm", backend=backend)
    aed.update(chw(generated), chw(truth))
    result = aed.result()
    a, b = backend(generated).vectors, backend(truth).vectors
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    by_hand = [np.sum((a[i] - b[i]) ** 2) for i in range(3)]  # pose-evaluation cmp.py
    assert result.frames == 3 and result.missing_rate == 0.0
    assert result.value == pytest.approx(np.mean(by_hand), rel=1e-9)
    assert by_hand[2] > max(by_hand[:2])  # the other person is farther
    assert result.contract["preset"] == "fomm"


@pytest.mark.slow
def test_face_akd_on_real_frames_is_cmp_kp(two_people: tuple[np.ndarray, np.ndarray]) -> None:
    aoc, _ = two_people
    moved = np.stack([shifted(f, 3) for f in aoc])
    landmarks = keypoint_backend("dlib-68")
    akd = AverageKeypointDistance(points="face68")
    akd.update(chw(moved), chw(aoc))
    result = akd.result()
    gen, gt = landmarks(moved).points, landmarks(aoc).points
    by_hand = np.mean([np.mean(np.abs(gt[i] - gen[i])) for i in range(3)])  # cmp_kp.py
    assert result.value == pytest.approx(by_hand, rel=1e-12)
    assert result.value == pytest.approx(3, rel=0.35) and result.backend == "dlib-68"


def test_ssim_valid_equals_scikit_image_and_psnr_is_capped_on_real_frames(
    two_people: tuple[np.ndarray, np.ndarray],
) -> None:
    aoc, _ = two_people
    target = aoc
    pred = np.stack([aoc[0], shifted(aoc[1], 2), shifted(aoc[2], 5)])
    reference = np.mean(
        [
            structural_similarity(
                t.astype(np.float64) / 255,
                p.astype(np.float64) / 255,
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
                data_range=1,
                channel_axis=2,
            )
            for p, t in zip(pred, target)
        ]
    )
    valid, reflect = SSIM(border="valid"), SSIM()
    for metric in (valid, reflect):
        metric.update(chw(pred), chw(target))
    assert valid.result().value == pytest.approx(reference, abs=1e-4)
    assert reflect.result().value != pytest.approx(reference, abs=1e-4)
    psnr = PSNR()
    psnr.update(chw(pred), chw(target))  # frame 0 is identical
    assert np.isfinite(psnr.result().value) and psnr.result().value > 100 / 3
