"""The CLI repeats no library default: a flag that is not given is None and the library's
config applies, while `--help` still shows the library's value."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from talkingub.cli import build_cmd
from talkingub.cli.build_cmd import build_command, refilter_command
from talkingub.cli.defaults import LibraryDefault, field_default
from talkingub.cli.fetch_cmd import fetch_command, fetch_config
from talkingub.curate.refilter import refilter
from talkingub.curate.run_types import BuildRun, BuildSummary
from talkingub.fetch import FetchConfig

OWNER = {  # option name -> (command, the library object whose default it documents)
    "workers": (fetch_command, FetchConfig),
    "max_height": (fetch_command, FetchConfig),
    "retries": (fetch_command, FetchConfig),
    "rate_limit": (fetch_command, FetchConfig),
    "socket_timeout": (fetch_command, FetchConfig),
    "on_invalid_row": (fetch_command, FetchConfig),
    "executor": (build_command, BuildRun),
    "build_workers": (build_command, BuildRun),
    "video_timeout": (build_command, BuildRun),
}
FIELD = {"build_workers": "workers"}


def library_options(command: click.Command) -> dict[str, LibraryDefault]:
    return {p.name: p for p in command.params if isinstance(p, LibraryDefault) and p.name}


def test_the_nine_repeated_defaults_are_read_from_the_library() -> None:
    found = {
        name: (command, option)
        for command in (fetch_command, build_command)
        for name, option in library_options(command).items()
        if command is fetch_command or name not in library_options(fetch_command)
    }
    assert set(found) == set(OWNER)
    for name, (command, option) in found.items():
        owner_command, cls = OWNER[name]
        assert command is owner_command
        assert option.default is None
        assert option.library() == field_default(cls, FIELD.get(name, name))


@pytest.mark.parametrize("command", [fetch_command, build_command, refilter_command])
def test_help_shows_the_library_default(command: click.Command) -> None:
    ctx = command.make_context(command.name or "", ["--help"], resilient_parsing=True)
    options = library_options(command)
    assert options
    for option in options.values():
        record = option.get_help_record(ctx)
        assert record is not None
        assert f"[default: {option.library()}" in record[1], record
        assert option.default is None  # showing it did not make it the parsed value


def test_fetch_flags_not_given_leave_fetch_config_defaults(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("url\n")
    ctx = fetch_command.make_context("fetch", [str(manifest), "-o", str(tmp_path / "out")])
    params = dict(ctx.params)
    assert all(params[name] is None for name in library_options(fetch_command))
    config = fetch_config(
        params.pop("manifest"), params.pop("out"), params.pop("dry_run"), **params
    )
    assert config == FetchConfig(manifest, tmp_path / "out")
    ctx = fetch_command.make_context(
        "fetch", [str(manifest), "-o", str(tmp_path), "--workers", "7", "--rate-limit", "0"]
    )
    params = dict(ctx.params)
    config = fetch_config(
        params.pop("manifest"), params.pop("out"), params.pop("dry_run"), **params
    )
    assert (config.workers, config.rate_limit, config.retries) == (7, 0.0, 3)


def run_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> BuildRun:
    seen: list[BuildRun] = []

    def record(build: BuildRun) -> BuildSummary:
        seen.append(build)
        return BuildSummary(build.out_dir, "abc", [], {})

    monkeypatch.setattr(build_cmd, "run", record)
    result = CliRunner().invoke(
        build_command, ["-o", str(tmp_path / "out"), "--stages", "process", *args]
    )
    assert result.exit_code == 0, result.output
    return seen[0]


def test_build_flags_not_given_leave_build_run_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build = run_build(monkeypatch, tmp_path)
    default = BuildRun(tmp_path / "out")
    assert (build.executor, build.workers, build.video_timeout) == (
        default.executor,
        default.workers,
        default.video_timeout,
    )
    build = run_build(
        monkeypatch,
        tmp_path,
        "--executor",
        "serial",
        "--build-workers",
        "3",
        "--video-timeout",
        "0",
    )
    assert (build.executor, build.workers, build.video_timeout) == ("serial", 3, None)
    assert run_build(monkeypatch, tmp_path, "--video-timeout", "5").video_timeout == 5.0


def test_refilter_workers_default_is_the_library_functions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    option = library_options(refilter_command)["workers"]
    assert option.library() == inspect.signature(refilter).parameters["workers"].default
    calls: list[dict[str, Any]] = []

    def record(out: Path, changes: dict[str, Any], **kw: Any) -> BuildSummary:
        calls.append(kw)
        return BuildSummary(out, "abc", [], {})

    monkeypatch.setattr(build_cmd, "refilter", record)
    runner = CliRunner()
    assert runner.invoke(refilter_command, [str(tmp_path)]).exit_code == 0
    assert runner.invoke(refilter_command, [str(tmp_path), "--workers", "5"]).exit_code == 0
    assert "workers" not in calls[0] and calls[1]["workers"] == 5
