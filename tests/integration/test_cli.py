"""The thin CLI: help texts describe every option; bad input is a one-line error."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from talkingub.cli import main


def all_options(command: click.Command) -> list[str]:
    return [opt for p in command.params if isinstance(p, click.Option) for opt in p.opts]


@pytest.mark.parametrize("name", [None, "fetch", "build", "demo"])
def test_help_describes_every_option(name: str | None) -> None:
    runner = CliRunner()
    args = [name, "--help"] if name else ["--help"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    command = main if name is None else main.commands[name]
    for option in all_options(command):
        assert option in result.output
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{name} {param.opts} has no help text"


def test_bad_manifest_is_one_line_naming_row_and_column(tmp_path: Path) -> None:
    manifest = tmp_path / "bad.csv"
    manifest.write_text("video_id,url\nok,https://e.org/a.mp4\n../up,https://e.org/b.mp4\n")
    result = CliRunner().invoke(main, ["fetch", str(manifest), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "row 2" in lines[0] and "column 'video_id'" in lines[0]


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    manifest = tmp_path / "bad.csv"
    manifest.write_text("video_id,url\na,ftp://e.org/a.mp4\n")
    result = CliRunner().invoke(main, ["--debug", "fetch", str(manifest), "-o", str(tmp_path)])
    assert result.exit_code != 0
    assert result.exception is not None and "row 1" in str(result.exception)
