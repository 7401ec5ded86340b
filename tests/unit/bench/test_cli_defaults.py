"""`talkingub bench` takes its defaults from the library: --protocol and --device default to
None, left out they give the library's protocol and `BenchRun`'s device, and --help shows
those values."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from talkingub.bench import runner
from talkingub.cli import main
from talkingub.cli.bench_cmd import bench_group
from talkingub.cli.defaults import LibraryDefault


def test_protocol_and_device_come_from_the_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[runner.BenchRun] = []
    monkeypatch.setattr(runner, "eval_all", lambda run: seen.append(run) or [])
    args = ["bench", "eval", str(tmp_path), "-o", str(tmp_path / "bench")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (run,) = seen
    assert run.protocol.name == runner.DEFAULT_PROTOCOL == "tiny-cpu"
    assert run.device == runner.BenchRun.__dataclass_fields__["device"].default == "auto"


@pytest.mark.parametrize("command", ["train", "eval", "table", "run"])
def test_help_shows_the_library_defaults(command: str) -> None:
    library = [p for p in bench_group.commands[command].params if isinstance(p, LibraryDefault)]
    assert {p.name for p in library} <= {"protocol", "device"} and library
    assert all(p.default is None for p in library)
    text = " ".join(CliRunner().invoke(main, ["bench", command, "--help"]).output.split())
    assert "[default: tiny-cpu]" in text
    assert ("[default: auto]" in text) == (command != "table")
