"""Reference rows (issue 16): the registry (name -> function(source, driving) -> prediction),
the protocol and CLI switches, `bench train` of a reference, and the evaluation of one with no
checkpoint, scored by the bench's own scorer against a numpy hand computation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from talkingub.bench import evaluate as E
from talkingub.bench import runner
from talkingub.bench.lists import EvalLists, FarItem, SameItem
from talkingub.bench.protocol import EvalConfig, Protocol, load_protocol
from talkingub.bench.references import (
    DEFAULT_REFERENCES,
    REFERENCES,
    check_references,
    get_reference,
    is_reference,
    split_methods,
)
from talkingub.cli import main
from talkingub.config import from_dict
from talkingub.errors import ConfigError


def _frames(seed: int, n: int = 4, size: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_the_registry_maps_names_to_source_driving_functions() -> None:
    assert DEFAULT_REFERENCES == ("copy-source", "copy-driving")
    assert set(DEFAULT_REFERENCES) <= set(REFERENCES)
    source, driving = _frames(0, 1)[0], _frames(1, 5)
    copied = get_reference("copy-source")(source, driving)
    assert copied.shape == driving.shape and copied.dtype == np.uint8
    assert all(np.array_equal(frame, source) for frame in copied)
    assert np.array_equal(get_reference("copy-driving")(source, driving), driving)
    with pytest.raises(ConfigError, match=r"no reference 'copy-nothing' \(have: "):
        get_reference("copy-nothing")
    with pytest.raises(ValueError, match="source"):
        get_reference("copy-source")(driving, driving)  # a video as the source


def test_methods_and_references_are_told_apart_in_order() -> None:
    names = ("copy-driving", "ptus", "copy-source", "fomm")
    assert split_methods(names) == (("ptus", "fomm"), ("copy-driving", "copy-source"))
    assert is_reference("copy-source") and not is_reference("ptus")
    assert check_references(["copy-source"]) == ("copy-source",)


def test_protocols_score_both_references_by_default_and_can_turn_them_off() -> None:
    for name in ("tiny-cpu", "paper-gpu"):
        protocol = load_protocol(name)
        assert protocol.evaluation.references == DEFAULT_REFERENCES
        assert runner.references_of(protocol) == DEFAULT_REFERENCES
    off = from_dict(EvalConfig, {"references": []}, where="evaluation")
    assert off.references == ()
    with pytest.raises(ConfigError, match="no reference 'copy-x'"):
        from_dict(EvalConfig, {"references": ["copy-x"]}, where="evaluation")
    with pytest.raises(ConfigError, match="lists: unknown 'far'"):
        from_dict(EvalConfig, {"lists": ["same", "far"]}, where="evaluation")
    mixed = Protocol(methods=("fomm", "copy-source"), evaluation=off)
    assert runner.trained_methods(mixed) == ("fomm",)
    assert runner.references_of(mixed) == ("copy-source",)  # named ones stay without defaults


def test_training_a_reference_says_so_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    args = ["bench", "train", str(tmp_path), "-o", str(out), "--methods", "copy-source"]
    result = CliRunner().invoke(main, [*args, "--device", "cpu", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == [
        "copy-source: a reference row, nothing to train (`talkingub bench eval` scores it)"
    ]
    assert not out.exists()


@pytest.mark.parametrize("command", ["eval", "table", "run"])
def test_no_references_flag_clears_the_protocols_references(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[runner.BenchRun] = []
    call = {"eval": "eval_all", "table": "table_all", "run": "run_all"}[command]
    result: Any = {"eval": [], "table": None, "run": runner.BenchResult(tmp_path)}[command]

    def record(run: runner.BenchRun) -> Any:
        seen.append(run)
        return result

    monkeypatch.setattr(runner, call, record)
    args = ["bench", command, str(tmp_path), "-o", str(tmp_path / "b"), "--no-references"]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    assert seen[0].protocol.evaluation.references == ()
    assert "--no-references" not in CliRunner().invoke(main, ["bench", "train", "--help"]).output


class FakeStore:
    """The decoded frames of one 140-frame clip at 16 x 16."""

    def __init__(self) -> None:
        self.clips = {"c": _frames(7, 140)}

    def frames(self, clip: str, indices: list[int]) -> np.ndarray:
        return self.clips[clip][indices]


def test_a_reference_is_evaluated_without_a_checkpoint_by_the_bench_scorer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FakeStore()
    monkeypatch.setattr(E, "ClipStore", lambda index: store)
    monkeypatch.setattr(E, "BuildIndex", lambda root: None)
    same = SameItem("c", "c", "anna", 0, (0, 1, 2, 3, 4, 5))
    far = FarItem("c__far00", "c", "anna", 10, (70, 130), 0.4, (2.8, 5.2))
    lists = EvalLists((same,), (), {}, (far,))
    config = EvalConfig(
        same_metrics=("l1", "psnr"), cross_metrics=(), size=16, lists=("same", "far_pairs")
    )
    results = {}
    for name in DEFAULT_REFERENCES:
        job = E.EvalJob(name, None, tmp_path, tmp_path / name, lists, config, device="cpu")
        results[name] = E.evaluate(job)
    table = pd.read_parquet(results["copy-source"].per_video).set_index(["task", "metric"])
    frames = store.clips["c"].astype(np.float64) / 255
    hand = {
        "same": np.abs(frames[[0]] - frames[[0, 1, 2, 3, 4, 5]]).mean(),
        "same_excl0": np.abs(frames[[0]] - frames[[1, 2, 3, 4, 5]]).mean(),
        "far": np.abs(frames[[10]] - frames[[70, 130]]).mean(),
    }
    for task, value in hand.items():
        assert table.loc[(task, "l1"), "value"] == pytest.approx(value, rel=1e-6), task
    driving = pd.read_parquet(results["copy-driving"].per_video)
    assert (driving[driving["metric"] == "l1"]["value"] == 0).all()
    summary = json.loads(results["copy-source"].summary.read_text())
    assert summary["reference"] is True and summary["params"] == 0
    assert summary["ms_per_frame"] is None  # no timing of a copy
    assert not (tmp_path / "copy-source" / "videos").exists()  # the grid columns show them
    with pytest.raises(ConfigError, match="fomm: no checkpoint"):
        E.EvalJob("fomm", None, tmp_path, tmp_path, lists, config, device="cpu")


def test_the_runner_reuses_a_reference_evaluation_of_the_same_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[E.EvalJob] = []

    def fake_evaluate(job: E.EvalJob) -> E.EvalResult:
        calls.append(job)
        job.out_dir.mkdir(parents=True, exist_ok=True)
        (job.out_dir / "per_video.parquet").write_bytes(b"")
        summary = {"params": 0, "ms_per_frame": None, "inputs": job.inputs}
        (job.out_dir / "summary.json").write_text(json.dumps(summary))
        return E.EvalResult(job.method, 0, job.out_dir / "per_video.parquet", Path(), 0.0, 0)

    monkeypatch.setattr(runner, "evaluate", fake_evaluate)
    protocol = load_protocol("tiny-cpu")
    run = runner.BenchRun(tmp_path, tmp_path / "bench", protocol, device="cpu")
    lists = EvalLists((SameItem("c", "c", "anna", 0, (0, 1)),), (), {})
    runner.eval_reference(run, "copy-source", lists)
    runner.eval_reference(run, "copy-source", lists)
    assert len(calls) == 1
    assert calls[0].out_dir == tmp_path / "bench" / "references" / "copy-source" / "eval"
    other = dataclasses.replace(
        run,
        protocol=dataclasses.replace(
            protocol, evaluation=dataclasses.replace(protocol.evaluation, size=128)
        ),
    )
    runner.eval_reference(other, "copy-source", lists)  # another size: scored again
    assert len(calls) == 2
