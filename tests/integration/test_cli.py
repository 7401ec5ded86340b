"""The thin CLI: help texts describe every option; bad input is a one-line error."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from talkingub.cli import DEBUG_HINT, describe, main
from talkingub.errors import ConfigError, EnvironmentStop


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


def broken_inputs(tmp_path: Path) -> list[tuple[list[str], int | None]]:
    """(arguments, exit code: None = any failure) of every subcommand on a broken input that
    Click's own checks let through to the library."""
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 2)
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    empty = tmp_path / "empty"
    empty.mkdir()
    bad_parquet = tmp_path / "bad_parquet"
    bad_parquet.mkdir()
    (bad_parquet / "fetch.parquet").write_text("not parquet")
    bad_json = tmp_path / "bad_json"
    bad_json.mkdir()
    (bad_json / "build.json").write_text("{oops")
    no_config = tmp_path / "no_config"
    no_config.mkdir()
    (no_config / "build.json").write_text("{}")
    manifest = tmp_path / "ok.csv"
    manifest.write_text("video_id,url\na,/nowhere/a.mp4\n")
    under_file = str(a_file / "sub")  # a folder whose parent is a file
    return [
        (["build", str(garbage), "-o", str(tmp_path / "o1"), "--no-progress"], 2),
        (["build", "-o", str(empty), "--stages", "process", "--no-progress"], 2),
        (["build", "-o", str(bad_parquet), "--stages", "process", "--no-progress"], None),
        (["build", str(manifest), "-o", under_file, "--no-progress"], 1),
        (["refilter", str(empty)], 2),
        (["refilter", str(bad_json)], 1),
        (["refilter", str(no_config)], 1),
        (["verify", str(empty)], 1),
        (["verify", str(bad_parquet)], 1),
        (["fetch", str(garbage), "-o", str(tmp_path / "o2")], 2),
        (["fetch", str(manifest), "-o", under_file, "--no-progress"], 1),
        (["metrics", str(empty), str(empty)], 2),
        (["bench", "train", str(empty), "-o", str(tmp_path / "b1")], 2),
        (["bench", "eval", str(empty), "-o", str(tmp_path / "b2")], 2),
        (["bench", "table", str(empty), "-o", str(tmp_path / "b3")], None),
        (["bench", "run", str(empty), "-o", str(tmp_path / "b4")], 2),
        (["bench", "train", str(empty), "-o", str(tmp_path / "b5"), "--protocol", "nope"], 2),
        (["sample", under_file], 1),
        (["weights", "path", "nope"], 2),
        (["weights", "fetch", "nope"], 2),
    ]


def test_every_subcommand_fails_on_broken_input_in_one_line(tmp_path: Path) -> None:
    """No traceback anywhere; one `error:` line (verify: one `problem:` line per problem);
    unexpected errors name their type and how to see the traceback."""
    for args, code in broken_inputs(tmp_path):
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        where = f"talkingub {' '.join(args)}:\n{result.output}"
        assert result.exit_code != 0 and "Traceback" not in result.output, where
        assert code is None or result.exit_code == code, where
        lines = result.output.strip().splitlines()
        if args[0] == "verify":
            assert lines and all(line.startswith("problem: ") for line in lines), where
            continue
        assert len(lines) == 1 and lines[0].startswith("error: "), where
        if result.exit_code == 1:
            assert lines[0].endswith(DEBUG_HINT), where


def test_demo_and_usage_errors_are_click_messages(tmp_path: Path) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    for args in (["demo", "-o", str(a_file)], ["refilter", str(a_file)]):
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert "is a file" in result.output


def test_unexpected_error_is_one_line_and_debug_raises_it(tmp_path: Path) -> None:
    (tmp_path / "build.json").write_text("{oops")
    result = CliRunner().invoke(main, ["refilter", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output.startswith("error: JSONDecodeError: Expecting property name")
    assert result.output.strip().endswith("(run `talkingub --debug ...` for the traceback)")
    with pytest.raises(json.JSONDecodeError):
        CliRunner().invoke(main, ["--debug", "refilter", str(tmp_path)], catch_exceptions=False)


def test_exit_codes_of_errors_reaching_the_command_line() -> None:
    code, text = describe(OSError(errno.ENOSPC, "No space left on device"))
    assert code == 3 and text.startswith("no space left on device (ENOSPC) writing")
    code, text = describe(EnvironmentStop("/out/x", errno.EROFS))
    assert (code, text) == (3, str(EnvironmentStop("/out/x", errno.EROFS)))
    code, text = describe(PermissionError(errno.EACCES, "Permission denied", "/in/a.mp4"))
    assert code == 1 and text.startswith("PermissionError: [Errno 13] Permission denied")
    assert describe(ConfigError("bad\nvalue")) == (2, "bad value")
    code, text = describe(RuntimeError("x" * 2000))
    assert code == 1 and len(text) < 600 and "\n" not in text
    assert describe(KeyError())[1] == f"KeyError {DEBUG_HINT}"
