"""`evaluate_folders` end to end on small synthetic folders: FVD through the pipeline (and the
bench scorer) with a test-written TorchScript I3D, and metrics whose dependencies are missing
reported as n/a with the reason instead of stopping the evaluation."""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from rich.console import Console

from talkingub.errors import DependencyError
from talkingub.metrics import FrechetVideoDistance, evaluate_folders, summary_table
from talkingub.vision import backends
from talkingub.vision.base import BACKENDS
from tests.unit.metrics.fakes import smooth_frames, write_frame_folder, write_i3d

# name -> (generated, ground truth) frames; 11 and 9 frames: 2 clips of 4 each, remainder dropped
VIDEOS = {
    "a": (smooth_frames(1, 11), smooth_frames(2, 11)),
    "b": (smooth_frames(3, 9), smooth_frames(4, 9)),
}


def chw(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frames).permute(0, 3, 1, 2)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("eval")
    for name, (pred, target) in VIDEOS.items():
        write_frame_folder(root / "pred" / name, pred)
        write_frame_folder(root / "gt" / name, target)
    write_i3d(root / "i3d.pt")
    return root


def whole_video_fvd(i3d: Path) -> FrechetVideoDistance:
    """The reference: each whole video handed to the metric at once."""
    fvd = FrechetVideoDistance(weights=i3d, clip_length=4)
    for pred, target in VIDEOS.values():
        fvd.update(chw(target), real=True)
        fvd.update(chw(pred), real=False)
    return fvd


def test_fvd_through_evaluate_folders_scores_the_clips_of_whole_videos(folders: Path) -> None:
    i3d = folders / "i3d.pt"
    ev = evaluate_folders(
        folders / "pred",
        folders / "gt",
        metrics=("l1", "fvd"),
        size=None,
        batch=3,  # not a multiple of the clip length: clips span batches
        options={"fvd": {"weights": str(i3d), "clip_length": 4}},
    )
    fvd = {r.name: r for r in ev.results}["fvd"]
    expected = whole_video_fvd(i3d)
    assert fvd.frames == 4 and fvd.contract == {"clip_length": 4, "samples": "clips"}
    assert fvd.backend_version.startswith("i3d.pt@")
    assert float(expected.compute()) > 0
    assert fvd.value == pytest.approx(float(expected.compute()), rel=1e-6)
    too_long = evaluate_folders(
        folders / "pred",
        folders / "gt",
        metrics=("fvd",),
        size=None,
        options={"fvd": {"weights": str(i3d)}},  # 16-frame clips: none in 11 frames
    )
    assert math.isnan(too_long.results[0].value)
    assert "at least 2 samples" in too_long.results[0].note


def test_bench_scorer_feeds_fvd_whole_videos(folders: Path) -> None:
    from talkingub.bench.protocol import EvalConfig
    from talkingub.bench.scoring import Scorer, Variant

    i3d = folders / "i3d.pt"
    config = EvalConfig(options={"fvd": {"weights": str(i3d), "clip_length": 4}})
    scorer = Scorer([Variant("cross", ("fvd",))], config)
    for index, (pred, target) in enumerate(VIDEOS.values()):
        scorer.score(index, pred, {"driving": target})
    (row,) = scorer.results()
    assert row["metric"] == "fvd" and row["frames"] == 4
    assert row["value"] == pytest.approx(float(whole_video_fvd(i3d).compute()), rel=1e-6)


@pytest.fixture()
def pose_backend_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """mediapipe-pose needs a module that is not installed; torch-fidelity cannot import."""
    entry = BACKENDS.entry("mediapipe-pose")
    absent = backends._needs("talkingub_absent_module")
    monkeypatch.setitem(
        BACKENDS._entries, "mediapipe-pose", dataclasses.replace(entry, check=absent)
    )
    for module in ("torch_fidelity", "torch_fidelity.feature_extractor_inceptionv3"):
        monkeypatch.setitem(sys.modules, module, None)


@pytest.mark.usefixtures("pose_backend_unavailable")
def test_missing_dependencies_are_na_with_the_reason(folders: Path) -> None:
    ev = evaluate_folders(
        folders / "pred",
        folders / "gt",
        metrics=("l1", "akd", "mkr", "fid"),
        size=None,
        on_missing_weights="na",
    )
    by_name = {r.name: r for r in ev.results}
    assert list(by_name) == ["l1", "akd", "mkr", "fid"]
    assert math.isfinite(by_name["l1"].value) and by_name["l1"].frames == 20
    for name in ("akd", "mkr"):
        assert math.isnan(by_name[name].value)
        assert "talkingub_absent_module" in by_name[name].note
        assert "pip install 'talkingub[metrics]'" in by_name[name].note
    assert math.isnan(by_name["fid"].value)
    assert "torch-fidelity" in by_name["fid"].note and "talkingub[metrics]" in by_name["fid"].note
    console = Console(width=250, record=True)
    console.print(summary_table(ev))
    assert console.export_text().count("n/a") >= 3


@pytest.mark.usefixtures("pose_backend_unavailable")
def test_missing_dependency_raises_without_na(folders: Path) -> None:
    with pytest.raises(DependencyError, match="talkingub_absent_module"):
        evaluate_folders(folders / "pred", folders / "gt", metrics=("l1", "mkr"), size=None)
