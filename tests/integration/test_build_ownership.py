"""Issue 15: a build deletes or overwrites only what it wrote, never through a symlink, only in
a folder that is talkingub's (or adopted with --force), and one run at a time per folder.

Each case starts from a copy of the small real-clip build and re-runs its process stage
(cached analyses and clips: seconds, not a full build)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from talkingub.cli import main
from talkingub.curate import BuildRun, run
from talkingub.curate.refilter import refilter
from talkingub.curate.verify import verify_build
from talkingub.io.faults import ENV, VIDEO_ENV
from tests.integration.conftest import assert_same_build
from tests.support.locks import held_by_other_process

pytestmark = pytest.mark.slow

MARK, LEDGER, LOCK = ".talkingub-build", ".talkingub-ledger", ".lock"
OWN_STALE = ".tmp-0a1b2c3d-train-00000.tar"  # the name a killed shard write leaves


@pytest.fixture()
def out(small_build: Path, tmp_path: Path) -> Path:
    target = tmp_path / "out"
    shutil.copytree(small_build, target)
    return target


def rebuild(out: Path) -> None:
    run(BuildRun(out_dir=out, stages=("process",), workers=2, progress=False))


def process_args(out: Path, *extra: str) -> list[str]:
    return ["build", "-o", str(out), "--stages", "process", "--no-progress", *extra]


def put(path: Path, data: bytes = b"the user's") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def one_line_error(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


def test_foreign_temporary_files_survive_a_build(out: Path) -> None:
    foreign = [
        put(out / "notes" / ".tmp-draft.txt"),
        put(out / "deep" / "a" / "b" / ".tmp-thesis.tex"),
        put(out / ".tmp-todo.md"),
        put(out / "notes" / OWN_STALE),  # own-looking, but in a folder builds never write
    ]
    stale = [put(out / "shards" / OWN_STALE), put(out / ".tmp-0a1b2c3d-videos.parquet")]
    rebuild(out)
    assert all(p.read_bytes() == b"the user's" for p in foreign)
    assert not any(p.exists() for p in stale)  # the build's own leftovers still go
    assert verify_build(out) == []


def test_foreign_shard_and_export_files_survive_a_build(out: Path, small_build: Path) -> None:
    foreign = [
        put(out / "shards" / "my_other_dataset.tar"),
        put(out / "export" / "fomm" / "train" / "my_clip.mp4"),
        put(out / "export" / "fomm" / "my_notes.txt"),
    ]
    rebuild(out)
    assert all(p.read_bytes() == b"the user's" for p in foreign)
    listed = (out / "SHA256SUMS").read_text()
    assert "my_other_dataset" not in listed and "my_clip" not in listed
    for path in foreign:  # what verify reports is theirs; the build itself is complete
        path.unlink()
    assert verify_build(out) == []
    assert_same_build(out, small_build)


def test_outputs_of_an_earlier_run_that_this_one_does_not_make_are_removed(out: Path) -> None:
    ledger = json.loads((out / LEDGER).read_text())
    ledger["paths"] += ["shards/train-00099.tar", "export/fomm/test/gone-0001.mp4"]
    (out / LEDGER).write_text(json.dumps(ledger))
    stale = [put(out / "shards" / "train-00099.tar"), put(out / "export/fomm/test/gone-0001.mp4")]
    rebuild(out)
    assert not any(p.exists() for p in stale)
    assert "train-00099" not in (out / LEDGER).read_text()
    assert verify_build(out) == []


def test_a_symlinked_shards_folder_is_refused_and_nothing_outside_changes(
    out: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    shutil.move(out / "shards", outside)
    put(outside / "keep.tar")
    put(outside / OWN_STALE)
    (out / "shards").symlink_to(outside, target_is_directory=True)
    before, inside = snapshot(outside), snapshot(out)
    result = CliRunner().invoke(main, process_args(out))
    assert result.exit_code == 2, result.output
    line = one_line_error(result.output)
    assert f"{out / 'shards'} is a symbolic link" in line
    assert snapshot(outside) == before
    assert snapshot(out) == inside


def test_an_unmarked_folder_is_refused_and_force_adopts_it(out: Path) -> None:
    """A folder talkingub did not make (here: a build without the ownership records, as an
    older talkingub wrote it, with the user's notes beside it)."""
    for name in (MARK, LEDGER, LOCK):
        (out / name).unlink(missing_ok=True)
    notes = [put(out / "notes.txt"), put(out / "shards" / ".tmp-draft.txt")]
    inside = snapshot(out)
    result = CliRunner().invoke(main, process_args(out))
    assert result.exit_code == 2, result.output
    assert "not made by talkingub" in one_line_error(result.output)
    assert snapshot(out) == inside and not (out / LOCK).exists()
    result = CliRunner().invoke(main, process_args(out, "--force"))
    assert result.exit_code == 0, result.output
    assert all(p.read_bytes() == b"the user's" for p in notes)
    assert json.loads((out / MARK).read_text())["adopted"] is True
    assert verify_build(out) == []


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "talkingub", *args]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in (ENV, VIDEO_ENV)}


def started(out: Path, first: subprocess.Popen[bytes], timeout: float = 300.0) -> None:
    """Until the first build holds OUT (its lock names it) or is encoding a clip."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and first.poll() is None:
        try:
            if json.loads((out / LOCK).read_text())["pid"] == first.pid:
                return
        except (OSError, ValueError, KeyError):
            pass
        if list((out / "work").glob("*/clips/.tmp-*")):
            return
        time.sleep(0.005)
    pytest.fail("the first build never started")


def test_a_second_build_on_the_same_folder_fails_at_once(out: Path, small_build: Path) -> None:
    """The first build is frozen (SIGSTOP) while it holds OUT, so the second one certainly
    starts during the first; it must fail at once, and the first, resumed, finish complete."""
    for video in (out / "work").iterdir():  # analyses and clips made again
        shutil.rmtree(video / "clips", ignore_errors=True)
        for analysis in video.glob("analysis-*.json"):
            analysis.unlink()
    args = cli(*process_args(out, "--executor", "serial"))
    first = subprocess.Popen(args, env=clean_env(), stderr=subprocess.PIPE)
    try:
        started(out, first)
        first.send_signal(signal.SIGSTOP)
        start = time.monotonic()
        second = subprocess.run(args, env=clean_env(), capture_output=True, text=True)
        elapsed = time.monotonic() - start
    finally:
        first.send_signal(signal.SIGCONT)
        _, first_err = first.communicate(timeout=900)
    assert second.returncode == 2, second.stderr
    expected = f"{out} is being built by pid {first.pid} on {socket.gethostname()}"
    assert expected in one_line_error(second.stderr)
    assert elapsed < 60
    assert first.returncode == 0, first_err.decode()
    assert verify_build(out) == []
    assert_same_build(out, small_build)  # nothing lost: every clip and frame is there


def test_wait_waits_for_the_holder(out: Path) -> None:
    with held_by_other_process(out, seconds=10.0) as holder:
        waiting = subprocess.Popen(cli(*process_args(out, "--wait")), env=clean_env())
        holder.wait(timeout=60)  # it lets go after 10 s
        assert waiting.poll() is None, "did not wait (refused or ran beside the holder)"
        assert waiting.wait(timeout=600) == 0
    assert verify_build(out) == []


def test_png_export_rewrites_only_its_own_frames(out: Path) -> None:
    refilter(out, {"output.export": ["fomm", "png"]}, workers=1, progress=False)
    clip = next(p for p in (out / "export" / "png").glob("*/*") if p.is_dir())
    foreign = [put(clip / "notes.txt"), put(out / "export" / "png" / "mine" / "0000000.png")]
    ledger = json.loads((out / LEDGER).read_text())
    ledger["paths"].append("export/png/test/gone-0001")  # an earlier run's clip, not made now
    (out / LEDGER).write_text(json.dumps(ledger))
    gone = put(out / "export" / "png" / "test" / "gone-0001" / "0000000.png")
    beside = put(gone.parent / "keep.txt")
    refilter(out, {"output.export": ["fomm", "png"]}, workers=1, progress=False)
    assert all(p.read_bytes() == b"the user's" for p in [*foreign, beside])
    assert not gone.exists()
    for path in [*foreign, beside]:
        path.unlink()
    assert verify_build(out) == []
