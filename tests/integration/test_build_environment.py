"""The environment is not a video: a full disk (ENOSPC) or a file size limit (EFBIG) while
writing OUT stops the run with one line naming the errno and the path (exit 3), records no
row as failed, leaves no temporary file behind, and a rerun resumes to the clean build.

EFBIG is real (`RLIMIT_FSIZE` in a subprocess: CPython ignores SIGXFSZ, so the write raises
"File too large"); ENOSPC is simulated in process (monkeypatched contact-sheet write) and in
workers (the `enospc` action of TALKINGUB_FAULT_VIDEO). Each case starts from the per-video
caches of the clean reference build, so it costs seconds.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from talkingub.cli import main
from talkingub.curate import contact
from talkingub.curate.verify import verify_build
from talkingub.io.atomic import TMP_MARK
from talkingub.io.faults import ENV, VIDEO_ENV
from tests.integration.conftest import assert_same_build
from tests.support.hostile import seed

pytestmark = pytest.mark.slow

FETCH_STATE = ("fetch.parquet", "fetch", "raw")
# Larger than anything Python writes to start, smaller than an encoded clip (~80 kB) and
# than the source videos a copying fetch writes (~400 kB and more).
FILE_SIZE_LIMIT = 40_000


def talkingub(args: list[str], file_size_limit: int | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in (ENV, VIDEO_ENV)}

    def limit() -> None:
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-m", "talkingub", *args],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=600,
    )


def error_lines(output: str) -> list[str]:
    """The CLI's own lines (native libraries also log to stderr in the workers)."""
    return [line for line in output.splitlines() if line.startswith("error:")]


def temporaries(out: Path) -> list[Path]:
    return [p for p in out.rglob(f"{TMP_MARK}*") if p.is_file()]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_stopped(output: str, code: int, out: Path, name: str, under: Path) -> None:
    assert code == 3, output
    assert "Traceback" not in output, output
    (line,) = error_lines(output)
    assert f"({name}) writing {under}" in line, line
    assert line.endswith("run again to resume"), line


def test_file_size_limit_in_a_worker_stops_the_build_and_resumes(
    small_build: Path, tmp_path: Path
) -> None:
    """Clips are encoded again (their cache dropped) under a limit they exceed."""
    out = tmp_path / "out"
    seed(small_build, out, (*FETCH_STATE, "work"), drop_clips=True)
    fetched = sha256(out / "fetch.parquet")
    args = ["build", "-o", str(out), "--stages", "process", "--no-progress"]
    stopped = talkingub([*args, "--executor", "process"], FILE_SIZE_LIMIT)
    assert_stopped(stopped.stderr, stopped.returncode, out, "EFBIG", out / "work")
    assert not (out / "videos.parquet").exists()  # no video recorded, failed or otherwise
    assert sha256(out / "fetch.parquet") == fetched
    assert temporaries(out) == []
    resumed = talkingub([*args, "--executor", "process"])
    assert resumed.returncode == 0, resumed.stderr
    assert verify_build(out) == []
    assert_same_build(out, small_build)


def test_file_size_limit_while_fetching_stops_and_resumes(
    small_manifest: Path, tmp_path: Path
) -> None:
    """A copying fetch writes the source videos into OUT/raw: no row is recorded as failed."""
    out = tmp_path / "out"
    args = ["fetch", str(small_manifest), "-o", str(out), "--copy", "--no-progress"]
    stopped = talkingub(args, FILE_SIZE_LIMIT)
    assert_stopped(stopped.stderr, stopped.returncode, out, "EFBIG", out / "raw")
    assert not (out / "fetch.parquet").exists()
    assert list((out / "fetch" / "parts").glob("*")) == []  # no row's result saved
    assert temporaries(out) == []
    resumed = talkingub(args)
    assert resumed.returncode == 0, resumed.stderr
    fetched = pd.read_parquet(out / "fetch.parquet")
    assert list(fetched["status"]) == ["ok"] * 3


def test_full_disk_writing_contact_sheets_stops_the_build_and_resumes(
    small_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the parent, after the workers: the sheet is written to its temporary file, then
    the disk is full (as at fsync or close on a filesystem that allocates late)."""
    out = tmp_path / "out"
    seed(small_build, out, (*FETCH_STATE, "work"))
    real_atomic_path = contact.atomic_path

    @contextlib.contextmanager
    def full_disk(final: Path) -> Iterator[Path]:
        with real_atomic_path(final) as tmp:
            yield tmp
            assert tmp.stat().st_size > 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(contact, "atomic_path", full_disk)
    args = ["build", "-o", str(out), "--stages", "process", "--executor", "serial"]
    stopped = CliRunner().invoke(main, [*args, "--no-progress"], catch_exceptions=False)
    assert_stopped(stopped.output, stopped.exit_code, out, "ENOSPC", out)
    assert list((out / "contact_sheets").glob("*")) == []  # its temporary removed too
    assert temporaries(out) == []
    monkeypatch.undo()
    resumed = CliRunner().invoke(main, [*args, "--no-progress"], catch_exceptions=False)
    assert resumed.exit_code == 0, resumed.output
    assert verify_build(out) == []
    assert_same_build(out, small_build)


@pytest.mark.parametrize("executor", ["process", "serial"])
def test_full_disk_in_a_worker_stops_the_build_and_resumes(
    executor: str, small_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `swalwell` worker finds the disk full: the run stops, no row is recorded (before:
    swalwell `failed`/`error` and exit 0)."""
    out = tmp_path / "out"
    seed(small_build, out, (*FETCH_STATE, "work"))
    monkeypatch.setenv(VIDEO_ENV, "swalwell:enospc")  # spawned workers inherit it
    args = ["build", "-o", str(out), "--stages", "process", "--executor", executor]
    stopped = CliRunner().invoke(main, [*args, "--no-progress"], catch_exceptions=False)
    assert_stopped(stopped.output, stopped.exit_code, out, "ENOSPC", out / "work" / "swalwell")
    assert not (out / "videos.parquet").exists()
    assert temporaries(out) == []
    monkeypatch.delenv(VIDEO_ENV)
    resumed = CliRunner().invoke(main, [*args, "--no-progress"], catch_exceptions=False)
    assert resumed.exit_code == 0, resumed.output
    assert verify_build(out) == []
    assert_same_build(out, small_build)
