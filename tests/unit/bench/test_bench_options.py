"""`talkingub bench` options (issue 18): a device this machine cannot run on is refused with
one line (exit 2) before any data is read, and each command lists only the options it uses
(`eval` and `table` take no training flag)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
import torch
from click.testing import CliRunner

from talkingub.bench import runner
from talkingub.bench.distributed import check_device
from talkingub.bench.evaluate import EvalJob
from talkingub.bench.lists import EvalLists
from talkingub.bench.protocol import load_protocol
from talkingub.bench.train import TrainJob
from talkingub.cli import main
from talkingub.cli.bench_cmd import bench_group
from talkingub.errors import ConfigError

UNKNOWN = "error: --device tpu: unknown device (choose auto, cpu, cuda, cuda:N or mps)"
TRAINING_ONLY = (
    "--steps",
    "--resume",
    "--restart",
    "--without-pretrained-losses",
    "--lr",
    "--batch-size",
)


def _bench(args: list[str]) -> click.testing.Result:
    return CliRunner().invoke(main, ["bench", *args])


def _no_cuda(monkeypatch: pytest.MonkeyPatch, built_with: str | None) -> str:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(torch.version, "cuda", built_with)
    return torch.__version__


def _gpus(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)


# --- --device -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["train", "eval", "run"])
def test_an_unknown_device_is_one_line_exit_2_before_the_build_is_read(
    tmp_path: Path, command: str
) -> None:
    build = tmp_path / "build"  # no clips.parquet: reading it would fail with another line
    build.mkdir()
    args = [command, str(build), "-o", str(tmp_path / "bench"), "--device", "tpu"]
    result = _bench([*args, "--no-progress"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [UNKNOWN]
    assert not (tmp_path / "bench").exists()


@pytest.mark.parametrize(
    ("built_with", "why"),
    [(None, "built without CUDA"), ("12.4", "built with CUDA 12.4, but no GPU visible")],
)
def test_cuda_on_a_machine_without_it_names_why_and_the_way_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, built_with: str | None, why: str
) -> None:
    version = _no_cuda(monkeypatch, built_with)
    build = tmp_path / "build"
    build.mkdir()
    for command in ("train", "eval"):
        args = [command, str(build), "-o", str(tmp_path / "bench"), "--device", "cuda"]
        result = _bench(args)
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines() == [
            f"error: --device cuda: CUDA is not available here (torch {version} {why}); "
            "use --device cpu"
        ]


def test_library_jobs_check_the_device_when_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_cuda(monkeypatch, None)
    protocol = load_protocol("tiny-cpu", methods=("fomm",))
    lists = EvalLists(same=(), cross=(), params={})
    makers: list[Callable[[str], Any]] = [
        lambda d: runner.BenchRun(tmp_path, tmp_path, protocol, device=d),
        lambda d: TrainJob("fomm", tmp_path, tmp_path, protocol, device=d),
        lambda d: EvalJob("fomm", tmp_path, tmp_path, tmp_path, lists, protocol.evaluation, 0, d),
    ]
    for make in makers:
        for device in ("cuda", "cuda:0", "tpu", "CPU", "cuda:x"):
            with pytest.raises(ConfigError, match=f"^--device {device}: "):
                make(device)
        assert make("cpu").device == "cpu" and make("auto").device == "auto"


def test_a_gpu_index_beyond_the_visible_ones_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _gpus(monkeypatch, 2)
    assert check_device("cuda") == "cuda" and check_device("cuda:1") == "cuda:1"
    with pytest.raises(ConfigError) as caught:
        check_device("cuda:2")
    assert str(caught.value) == "--device cuda:2: no such GPU (2 visible here: cuda:0 to cuda:1)"


def test_mps_where_there_is_none_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ConfigError, match=r"^--device mps: MPS is not available here .* cpu$"):
        check_device("mps")


# --- each command lists only the options it uses --------------------------------------------


def _flags(command: str) -> list[str]:
    return [o for p in bench_group.commands[command].params for o in p.opts]


@pytest.mark.parametrize("command", ["eval", "table"])
def test_eval_and_table_list_no_training_flag(command: str) -> None:
    result = _bench([command, "--help"])
    assert result.exit_code == 0, result.output
    for flag in TRAINING_ONLY:
        assert flag not in result.output and flag not in _flags(command), (command, flag)


def test_table_takes_no_device_and_eval_takes_no_steps(tmp_path: Path) -> None:
    result = _bench(["table", str(tmp_path), "-o", str(tmp_path), "--device", "cpu"])
    assert result.exit_code == 2 and "No such option '--device'" in result.output
    result = _bench(["eval", str(tmp_path), "-o", str(tmp_path), "--steps", "3"])
    assert result.exit_code == 2 and "No such option '--steps'" in result.output


# A value other than the default for every option a command may list: an option missing here
# fails the test below, so a new option comes with its proof of use.
OTHER_VALUE = {
    "build_dir": "other-build",
    "out_dir": "other-bench",
    "protocol": "paper-gpu",
    "methods": "fomm",
    "device": "cpu",
    "steps": "3",
    "pretrained": f"fomm-vox={Path(__file__)}",  # any existing file: parsed, not loaded
}
LIBRARY_CALL = {"train": "train_all", "eval": "eval_all", "table": "table_all", "run": "run_all"}


def _evaluation_inputs(run: runner.BenchRun) -> tuple[Any, ...]:
    protocol = run.protocol
    return run.build_dir, run.out_dir, protocol.methods, protocol.seeds, protocol.evaluation


# What of the BenchRun each library call reads (runner.py): `eval` and `table` read no
# schedule, resume or loss switch, `table` no device either; every call reads `verbose` (where
# third-party log output goes) and `progress` (its bars).
READS = {
    "train": lambda run: run,
    "run": lambda run: run,
    "eval": lambda run: (
        *_evaluation_inputs(run),
        run.device,
        run.progress,
        run.allow_mixed_builds,
        run.verbose,
        run.pretrained,
        run.evaluate_trained,
    ),
    "table": lambda run: (
        *_evaluation_inputs(run),
        run.protocol.name,
        run.allow_mixed_builds,
        run.progress,
        run.verbose,
    ),
}


def _captured_run(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str | None
) -> runner.BenchRun:
    seen: list[runner.BenchRun] = []

    def record(run: runner.BenchRun) -> Any:
        seen.append(run)
        results: dict[str, Any] = {"run": runner.BenchResult(run.out_dir), "table": None}
        return results.get(command, [])

    monkeypatch.setattr(runner, LIBRARY_CALL[command], record)
    values = {"build_dir": "build", "out_dir": "bench"}
    if change in OTHER_VALUE:
        values[change] = OTHER_VALUE[change]
    for name in ("build", "other-build"):
        (tmp_path / name).mkdir(exist_ok=True)
    args = [command, str(tmp_path / values["build_dir"]), "-o", str(tmp_path / values["out_dir"])]
    for param in bench_group.commands[command].params:
        if param.name == change and isinstance(param, click.Option):
            flag = param.opts[-1]
            args += [flag] if param.is_flag else [flag, OTHER_VALUE[change]]
    result = _bench(args)
    assert result.exit_code == 0, (change, result.output)
    assert len(seen) == 1
    return seen[0]


@pytest.mark.parametrize("command", ["train", "eval", "table", "run"])
def test_every_listed_option_changes_what_the_command_runs(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = bench_group.commands[command].params
    names = [p.name for p in params if p.name != "help"]
    assert names
    baseline = _captured_run(command, tmp_path, monkeypatch, None)
    for name in names:
        assert name is not None
        param = next(p for p in params if p.name == name)
        if not (isinstance(param, click.Option) and param.is_flag):
            assert name in OTHER_VALUE, f"bench {command}: no test value for {name}"
        changed = _captured_run(command, tmp_path, monkeypatch, name)
        used = READS[command](changed) != READS[command](baseline)
        assert used, f"bench {command} lists {name} but does not use it"


def test_resume_and_restart_together_are_refused(tmp_path: Path) -> None:
    result = _bench(["train", str(tmp_path), "-o", str(tmp_path), "--resume", "--restart"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        "error: --resume and --restart exclude each other: --resume continues from the last "
        "checkpoint, --restart starts over"
    ]
