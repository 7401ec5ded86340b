"""One writer per bench run folder (issue 15): a second `bench train` into a run folder that
another process is training into fails at once, naming that process."""

from __future__ import annotations

import time
from pathlib import Path

from click.testing import CliRunner

from talkingub.bench.protocol import load_protocol
from talkingub.bench.runner import run_dir
from talkingub.cli import main
from tests.support.locks import held_by_other_process, holder_line


def test_second_bench_train_into_a_busy_run_folder_fails_at_once(tmp_path: Path) -> None:
    build, out = tmp_path / "build", tmp_path / "bench"
    build.mkdir()
    seed = load_protocol("tiny-cpu", methods=("fomm",)).seeds[0]
    busy = run_dir(out, "fomm", seed)
    args = ["bench", "train", str(build), "-o", str(out), "--methods", "fomm", "--device", "cpu"]
    with held_by_other_process(busy, action="trained") as child:
        start = time.monotonic()
        result = CliRunner().invoke(main, [*args, "--without-pretrained-losses", "--no-progress"])
        elapsed = time.monotonic() - start
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines == [f"error: {busy} is being trained by {holder_line(child)} ({_hint()})"]
    assert elapsed < 30
    assert not (busy / "run.json").exists() and not (busy / "train_log.csv").exists()


def _hint() -> str:
    return "wait for it, or write to another folder"
