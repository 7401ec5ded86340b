"""`evaluate_folders` end to end on small synthetic folders: FVD through the pipeline (and the
bench scorer) with a test-written TorchScript I3D, all clips or the first per video, items of
unequal length refused (or truncated on request), and metrics whose dependencies are missing
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

from talkingub.errors import ConfigError, DependencyError
from talkingub.metrics import FrechetVideoDistance, MetricScorer, evaluate_folders, summary_table
from talkingub.metrics.media import FrameCountError
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


def whole_video_fvd(i3d: Path, first_only: bool = False) -> FrechetVideoDistance:
    """The reference: each whole video handed to the metric at once (or, by hand, its first
    4-frame clip)."""
    fvd = FrechetVideoDistance(weights=i3d, clip_length=4)
    for pred, target in VIDEOS.values():
        if first_only:
            pred, target = pred[:4], target[:4]
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
    assert fvd.frames == 4
    assert fvd.contract == {"clip_length": 4, "clips": "all", "samples": "clips"}
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


def test_fvd_first_clip_per_video_is_stylegan_v_protocol(folders: Path) -> None:
    i3d = folders / "i3d.pt"
    ev = evaluate_folders(
        folders / "pred",
        folders / "gt",
        metrics=("fvd",),
        size=None,
        batch=3,  # the first clip spans two batches
        options={"fvd": {"weights": str(i3d), "clip_length": 4, "clips": "first"}},
    )
    (fvd,) = ev.results
    expected = whole_video_fvd(i3d, first_only=True)
    assert fvd.frames == 2 and fvd.contract["clips"] == "first"  # one clip per video
    assert int(expected.fake_n) == 2
    assert fvd.value == pytest.approx(float(expected.compute()), rel=1e-6)
    assert fvd.value != pytest.approx(float(whole_video_fvd(i3d).compute()), rel=1e-3)
    direct = FrechetVideoDistance(weights=i3d, clip_length=4, clips="first")
    for pred, target in VIDEOS.values():
        direct.update(chw(target), real=True)  # a whole video: only its first clip
        direct.update(chw(pred), real=False)
    assert int(direct.real_n) == 2
    assert float(direct.compute()) == pytest.approx(fvd.value, rel=1e-6)
    with pytest.raises(ConfigError, match="clips must be one of"):
        FrechetVideoDistance(weights=i3d, clips="middle")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def unequal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pred/clip: 12 frames; gt/clip: 20 frames."""
    root = tmp_path_factory.mktemp("unequal")
    write_frame_folder(root / "pred" / "clip", smooth_frames(20, 12))
    write_frame_folder(root / "gt" / "clip", smooth_frames(21, 20))
    return root


def test_unequal_lengths_are_an_error_naming_both_unless_truncate(unequal: Path) -> None:
    for pred, gt, counts in (("pred", "gt", (12, 20)), ("gt", "pred", (20, 12))):
        with pytest.raises(FrameCountError) as caught:
            evaluate_folders(
                unequal / pred,
                unequal / gt,
                metrics=("l1",),
                size=None,
                batch=5,
            )
        message = str(caught.value)
        assert "\n" not in message and "video clip" in message
        assert f"prediction has {counts[0]} frames, the ground truth {counts[1]}" in message
        assert "--truncate" in message
        assert isinstance(caught.value, ConfigError)
    ev = evaluate_folders(
        unequal / "pred", unequal / "gt", metrics=("l1",), size=None, truncate=True
    )
    assert ev.frames == 12 and ev.results[0].frames == 12 and ev.config.truncate
    capped = evaluate_folders(  # max_frames applies to both before they are compared
        unequal / "pred", unequal / "gt", metrics=("l1",), size=None, max_frames=10
    )
    assert capped.frames == 10


def test_the_cli_reports_unequal_lengths_in_one_line_or_truncates(unequal: Path) -> None:
    from click.testing import CliRunner

    from talkingub.cli import main

    args = ["metrics", str(unequal / "pred"), str(unequal / "gt"), "-m", "l1", "--size", "0"]
    failed = CliRunner().invoke(main, args)
    assert failed.exit_code == ConfigError.exit_code
    lines = [line for line in failed.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "12 frames, the ground truth 20" in lines[0], failed.output
    passed = CliRunner().invoke(main, [*args, "--truncate"])
    assert passed.exit_code == 0, passed.output
    assert "1 item(s), 12 frame pairs" in passed.output


def test_the_scoring_core_refuses_references_of_another_length() -> None:
    scorer = MetricScorer(("l1",), lambda name: {})
    pred = smooth_frames(30, 5)
    with pytest.raises(
        FrameCountError, match="video 7: the prediction has 5 frames, the source reference 1"
    ):
        scorer.update(7, pred, {"driving": smooth_frames(31, 5), "source": pred[:1]})
    with pytest.raises(FrameCountError, match="the ground truth 4"):
        scorer.update(7, pred, {"driving": smooth_frames(31, 4)})


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


def test_two_video_files_are_one_pair_scored_like_a_folder_of_each(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from talkingub.bench.video import write_mp4
    from talkingub.cli import main

    pred, target = VIDEOS["a"]
    fake = write_mp4(tmp_path / "pred" / "fake.mp4", pred, 25.0)
    real = write_mp4(tmp_path / "gt" / "fake.mp4", target, 25.0)  # same name: folder pairing
    files = evaluate_folders(fake, real, metrics=("l1",), size=None)
    in_folders = evaluate_folders(fake.parent, real.parent, metrics=("l1",), size=None)
    assert files.frames == in_folders.frames == len(pred)
    assert files.results[0].value == pytest.approx(in_folders.results[0].value)
    other = real.rename(tmp_path / "gt" / "real.mp4")  # files pair whatever their names
    assert evaluate_folders(fake, other, metrics=("l1",), size=None).frames == len(pred)
    with pytest.raises(ConfigError, match="two video files or two folders"):
        evaluate_folders(fake, other.parent, metrics=("l1",), size=None)
    done = CliRunner().invoke(main, ["metrics", str(fake), str(other), "-m", "l1", "--size", "0"])
    assert done.exit_code == 0, done.output
    assert f"1 item(s), {len(pred)} frame pairs" in done.output
