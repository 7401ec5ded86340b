"""Crashes: a build SIGKILLed at each named point resumes to exactly the uninterrupted result;
a worker that dies or hangs on one video fails that row only; separate fetch and process
passes never download twice.

Each kill-point case starts from the per-video caches of the clean reference build (kept or
removed so that the run reaches the point), so a case costs seconds, not a full build.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from talkingub.cli import main
from talkingub.curate import BuildRun, run
from talkingub.curate.verify import verify_build
from talkingub.fetch import FetchConfig
from talkingub.io.atomic import TMP_MARK
from talkingub.io.faults import ENV, VIDEO_ENV
from tests.integration.conftest import assert_same_build
from tests.support import hostile
from tests.support.hostile import seed
from tests.support.loopback_http import Route, serve

pytestmark = pytest.mark.slow

FETCH_STATE = ("fetch.parquet", "fetch", "raw")


def build_cmd(manifest: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "talkingub",
        "build",
        str(manifest),
        "-o",
        str(out),
        "--executor",
        "serial",
        "--no-progress",
    ]


def run_build(manifest: Path, out: Path, kill_at: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k not in (ENV, VIDEO_ENV)}
    if kill_at:
        env[ENV] = kill_at
    return subprocess.run(build_cmd(manifest, out), env=env, capture_output=True).returncode


def finished(paths: list[Path]) -> list[Path]:
    return [p for p in paths if not p.name.startswith(TMP_MARK)]


def final_clips(out: Path) -> list[Path]:
    return finished(list((out / "work").glob("*/clips/*.mp4")))


def no_fetch_table(out: Path) -> bool:
    return not (out / "fetch.parquet").exists()


def no_finished_clip(out: Path) -> bool:
    partial = list((out / "work").glob(f"*/clips/{TMP_MARK}*.mp4"))
    return not final_clips(out) and len(partial) == 1


def no_shard(out: Path) -> bool:
    shards = list((out / "shards").glob("*.tar"))
    return not finished(shards) and len(shards) == 1


def no_videos_table(out: Path) -> bool:
    return not (out / "videos.parquet").exists()


@dataclasses.dataclass(frozen=True)
class KillCase:
    point: str
    keep: tuple[str, ...]  # reference state the run starts from
    drop_clips: bool
    unfinished: Callable[[Path], bool]  # what the killed run must not leave looking finished


CASES = [
    KillCase("fetch.downloaded", ("work",), False, no_fetch_table),
    KillCase("clip.encoding", (*FETCH_STATE, "work"), True, no_finished_clip),
    KillCase("shard.half_written", (*FETCH_STATE, "work"), False, no_shard),
    KillCase("parquet.written", (*FETCH_STATE, "work"), False, no_videos_table),
]


@pytest.mark.parametrize("case", CASES, ids=[c.point for c in CASES])
def test_sigkill_then_resume_verifies_and_equals_clean_build(
    case: KillCase, small_manifest: Path, small_build: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    seed(small_build, out, case.keep, case.drop_clips)
    code = run_build(small_manifest, out, kill_at=case.point)
    assert code == -9, f"the build did not reach {case.point} (exit {code})"
    assert case.unfinished(out), f"killed at {case.point}, a partial output looks finished"
    assert run_build(small_manifest, out, kill_at=None) == 0
    assert verify_build(out) == []
    assert_same_build(out, small_build)


def test_worker_crash_and_hang_fail_only_their_rows(
    small_manifest: Path,
    small_build: Path,
    presenter_chest_up_mp4: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker SIGKILLed (as by a segfault or the OOM killer) and one stuck past the per-video
    limit: each row gets its reason, the good rows (cached analysis: well within the limit)
    are built as in the clean build."""
    out = tmp_path / "out"
    seed(small_build, out, (*FETCH_STATE, "work"))
    manifest = hostile.faulty_manifest(small_manifest, presenter_chest_up_mp4, tmp_path)
    monkeypatch.setenv(VIDEO_ENV, hostile.FAULTS)
    fetch = FetchConfig(manifest=manifest, out_dir=out, progress=False)
    run(BuildRun(out_dir=out, fetch=fetch, workers=2, progress=False, video_timeout=8.0))
    hostile.assert_faults_isolated(out, small_build)
    detail = pd.read_parquet(out / "videos.parquet").set_index("video_id").loc["crasher", "detail"]
    assert "SIGKILL" in detail


def test_process_pass_never_downloads_again(
    presenter_chest_up_mp4: Path, small_build: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    seed(small_build, out, ("work",))  # same bytes, same analysis cache: a quick process pass
    with serve({"/v/presenter.mp4": Route.file(presenter_chest_up_mp4)}) as server:
        manifest = tmp_path / "manifest.csv"
        manifest.write_text(
            f"video_id,url,identity\npresenter,{server.url('/v/presenter.mp4')},p\n"
        )
        fetch = ["build", str(manifest), "-o", str(out), "--stages", "fetch", "--no-progress"]
        result = CliRunner().invoke(main, fetch)
        assert result.exit_code == 0, result.output
        hits, table = server.hits("/v/presenter.mp4"), sha256(out / "fetch.parquet")
        assert hits >= 1 and not (out / "videos.parquet").exists()
        process = ["build", "-o", str(out), "--stages", "process", "--no-progress"]
        result = CliRunner().invoke(main, process)
        assert result.exit_code == 0, result.output
        assert server.hits("/v/presenter.mp4") == hits  # nothing fetched again
    assert sha256(out / "fetch.parquet") == table
    videos = pd.read_parquet(out / "videos.parquet").set_index("video_id")
    assert tuple(videos.loc["presenter", ["fetch_status", "status"]]) == ("ok", "kept")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
