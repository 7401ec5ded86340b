"""Metrics on real peer media: a clip against itself and shifted copies, identity metrics on
the same vs different people, and the `talkingub metrics` CLI computing the full
same-identity set on real video files and writing JSON/Parquet."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from talkingub.cli import main
from talkingub.metrics import average_euclidean_distance, cosine_similarity, evaluate_folders
from talkingub.metrics.media import MediaItem, iter_frames
from talkingub.vision import Embeddings, embedding_backend
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
    header = next(line for line in result.output.splitlines() if "metric" in line)
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
