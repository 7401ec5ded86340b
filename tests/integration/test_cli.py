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
        (["weights", "import", "nope", str(garbage)], 2),
        (["weights", "import", "fomm", str(garbage), "--variant", "vox"], 2),
        (["weights", "import", "fomm", str(tmp_path / "vox-cpk.pth.tar")], 2),
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


# ---- issue 18: dry-run file name, fetch-only summary, metrics -o, manifests without rows


def test_fetch_dry_run_prints_the_file_it_wrote_whole(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("video_id,url\na,/nowhere/a.mp4\n")
    out = tmp_path / ("a-long-folder-name-so-that-the-path-is-wider-than-the-terminal" * 2)
    args = ["fetch", str(manifest), "-o", str(out), "--dry-run", "--no-progress"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    written = out / "fetch-dryrun.parquet"
    assert written.is_file() and not (out / "fetch.parquet").exists()
    results = [line for line in result.output.splitlines() if line.startswith("results: ")]
    assert len(results) == 1 and results[0].startswith(f"results: {written} "), result.output
    assert "dry run" in results[0]
    help_text = CliRunner().invoke(main, ["fetch", "--help"]).output
    assert "OUT/fetch-dryrun.parquet" in "".join(help_text.split())  # Click wraps at hyphens


def test_readme_names_the_dry_run_results_file() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start = readme.index("### Fetch results and reason codes")
    section = readme[start : readme.index("\n| reason |", start)]
    assert "`OUT/fetch-dryrun.parquet`" in section


def test_build_fetch_only_prints_what_the_pass_did(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("video_id,url\na,/nowhere/a.mp4\n../x,/nowhere/b.mp4\n")
    out = tmp_path / "out"
    args = ["build", str(manifest), "-o", str(out), "--stages", "fetch", "--no-progress"]
    args += ["--on-invalid-row", "skip"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "funnel" not in text and "outputs:" not in text and "shards/" not in text, text
    assert "licence" not in text
    assert f"results: {out / 'fetch.parquet'}" in text.splitlines()
    counts = {
        parts[0]: parts[-1]
        for line in text.splitlines()
        if len(parts := line.replace("│", " ").split()) == 2 and parts[-1].isdigit()
    }
    assert counts == {"failed": "1", "skipped": "1", "not_found": "1", "invalid_row": "1"}, text


def test_metrics_refuses_a_bad_results_path_before_computing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import talkingub.metrics.evaluate as evaluate

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a metric was computed")

    monkeypatch.setattr(evaluate, "evaluate_folders", never)
    folder = tmp_path / "frames"
    folder.mkdir()
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    for target, words in (
        (tmp_path / "res.csv", ("res.csv", ".json or .parquet")),
        (tmp_path / "res.json" / "x.csv", (".json or .parquet",)),
        (a_file / "sub" / "res.json", ("not a folder",)),
    ):
        args = ["metrics", str(folder), str(folder), "-o", str(tmp_path / "ok.json")]
        result = CliRunner().invoke(main, [*args, "-o", str(target)], catch_exceptions=False)
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2, result.output
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
        assert all(word in lines[0] for word in words), result.output
    assert not (tmp_path / "ok.json").exists()


@pytest.mark.parametrize("body", ["video_id,url,identity\n", ""], ids=["csv", "txt"])
@pytest.mark.parametrize("command", ["fetch", "build"])
def test_a_manifest_without_rows_is_refused_in_one_line(
    tmp_path: Path, body: str, command: str
) -> None:
    manifest = tmp_path / ("m.csv" if body else "m.txt")
    manifest.write_text(body)
    out = tmp_path / "out"
    args = [command, str(manifest), "-o", str(out), "--no-progress"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"error: manifest {manifest} has no rows"
    assert not (out / "fetch.parquet").exists()
