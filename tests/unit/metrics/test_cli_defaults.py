"""`talkingub metrics` takes its defaults from `EvaluationConfig`: each option defaults to
None, one left out keeps the library's value, and --help shows that value."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from talkingub.cli import main
from talkingub.cli.defaults import LibraryDefault
from talkingub.cli.metrics_cmd import metrics_command
from talkingub.metrics.evaluate import Evaluation, EvaluationConfig

LIBRARY_OPTIONS = {"metrics", "size", "stride", "batch", "averaging", "missing"}


def _configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> EvaluationConfig:
    import talkingub.metrics.evaluate as evaluate

    seen: list[EvaluationConfig] = []

    def capture(
        pred: Path, target: Path, config: EvaluationConfig, progress: object = None
    ) -> Evaluation:
        seen.append(config)
        return Evaluation([], [], 0, config)

    monkeypatch.setattr(evaluate, "evaluate_folders", capture)
    folder = tmp_path / "frames"
    folder.mkdir(exist_ok=True)
    result = CliRunner().invoke(main, ["metrics", str(folder), str(folder), *args])
    assert result.exit_code == 0, result.output
    return seen[-1]


def test_options_left_out_keep_the_library_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _configs(tmp_path, monkeypatch) == EvaluationConfig()
    args = ("--size", "0", "--batch", "3", "-m", "l1, fid", "--missing", "penalise")
    expected = dataclasses.replace(
        EvaluationConfig(), size=None, batch=3, metrics=("l1", "fid"), missing="penalise"
    )
    assert _configs(tmp_path, monkeypatch, *args) == expected


def test_help_shows_the_library_defaults() -> None:
    library = {p.name: p for p in metrics_command.params if isinstance(p, LibraryDefault)}
    assert set(library) == LIBRARY_OPTIONS
    assert all(p.default is None for p in library.values())
    output = CliRunner().invoke(main, ["metrics", "--help"]).output
    text = " ".join(output.split())
    for field in dataclasses.fields(EvaluationConfig):
        if field.name in LIBRARY_OPTIONS:
            value = field.default
            shown = ",".join(value) if isinstance(value, tuple) else value
            assert f"[default: {shown}]" in text, (field.name, output)
    assert "[default: l1,akd,mkr,aed,csim,fld,psnr,ssim]" in text
