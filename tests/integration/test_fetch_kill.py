"""A fetch killed mid-download (SIGKILL) resumes to the same result as a clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from talkingub.manifest.schema import TIMESTAMP_COLUMNS
from tests.support.loopback_http import LoopbackServer, Route, serve


@pytest.fixture(scope="module")
def slow_server(presenter_landscape_mp4: Path, swalwell_mp4: Path) -> Iterator[LoopbackServer]:
    routes = {
        "/slow.mp4": Route.file(presenter_landscape_mp4, drip=0.15),  # ~11 chunks, ~1.6 s
        "/quick.mp4": Route.file(swalwell_mp4),
    }
    with serve(routes) as srv:
        yield srv


def fetch_cmd(manifest: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "talkingub",
        "fetch",
        str(manifest),
        "-o",
        str(out),
        "--workers",
        "1",
        "--no-progress",
        "--retries",
        "0",
    ]


def wait_for_partial(out: Path, timeout: float = 30.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parts = [
            p for p in (out / "raw" / ".partial").rglob("*") if p.is_file() and p.stat().st_size
        ]
        if parts:
            return parts[0]
        time.sleep(0.02)
    raise AssertionError("the download never started")


def comparable(table: Path) -> pd.DataFrame:
    return pd.read_parquet(table).drop(columns=list(TIMESTAMP_COLUMNS))


def test_sigkill_mid_download_then_rerun_equals_clean_run(
    tmp_path: Path, slow_server: LoopbackServer
) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "video_id,url,identity\n"
        f"quick,{slow_server.url('/quick.mp4')},a\n"
        f"slow,{slow_server.url('/slow.mp4')},b\n"
    )
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        fetch_cmd(manifest, killed),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    partial = wait_for_partial(killed)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert partial.exists(), "the kill landed after the download finished"
    assert not (killed / "fetch.parquet").exists()
    assert not (killed / "fetch" / "parts" / "slow.json").exists()
    assert not list((killed / "raw").glob("slow.*"))  # nothing under a final name

    subprocess.run(fetch_cmd(manifest, killed), check=True, capture_output=True)
    clean = tmp_path / "clean"
    subprocess.run(fetch_cmd(manifest, clean), check=True, capture_output=True)
    resumed = comparable(killed / "fetch.parquet")
    assert (resumed["status"] == "ok").all()
    pd.testing.assert_frame_equal(resumed, comparable(clean / "fetch.parquet"))
