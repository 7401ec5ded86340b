"""Progress and log noise on real media (issue 18): `talkingub build` keeps MediaPipe's
`W0000 ...` lines and protobuf's warning off the terminal and in `OUT/logs/build.log` (a
ledger entry, never in SHA256SUMS, so `verify` still passes), while its bars still reach
stderr; the per-video unit reports every stage with frame counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from talkingub.curate import BuildConfig
from talkingub.curate.stages import StageEvent
from talkingub.curate.types import SourceVideo
from talkingub.curate.unit import process_video
from talkingub.video.probe import probe_video


def talkingub(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command line, its stderr a pipe (fd 2 as a terminal would be)."""
    command = [sys.executable, "-m", "talkingub", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, env=os.environ)


def test_build_routes_detector_noise_to_the_log_and_shows_bars(
    ted_speaker_mp4: Path, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"video_id,url,identity\nted,{ted_speaker_mp4},ted\n")
    out = tmp_path / "out"
    done = talkingub("build", str(manifest), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "W0000" not in done.stderr and "GetPrototype" not in done.stderr
    assert "process videos" in done.stderr and "1/1 videos" in done.stderr
    log = (out / "logs" / "build.log").read_text()
    assert log.startswith("--- talkingub build ")
    assert "W0000" in log  # what the worker's detectors wrote to fd 2
    ledger = json.loads((out / ".talkingub-ledger").read_text())["paths"]
    assert "logs/build.log" in ledger
    assert "logs/" not in (out / "SHA256SUMS").read_text()
    verified = talkingub("verify", str(out))
    assert verified.returncode == 0, verified.stderr
    again = talkingub("build", "-o", str(out), "--stages", "process", "--no-progress")
    assert again.returncode == 0, again.stderr
    text = (out / "logs" / "build.log").read_text()
    assert text.startswith(log) and text.count("--- talkingub build ") == 2  # appended


def test_the_unit_reports_each_stage_with_frame_counts(
    presenter_chest_up_mp4: Path, tmp_path: Path
) -> None:
    path = presenter_chest_up_mp4  # one kept clip: every stage runs
    info = probe_video(path)
    video = SourceVideo("p", path, "p", None, info.width, info.height, info.fps, info.duration, "0")
    events: list[StageEvent] = []
    process_video(video, BuildConfig(), tmp_path / "work", listener=events.append)
    stages = [e.stage for e in events]
    assert stages == sorted(stages, key=["decode", "analysis", "encode"].index)
    assert set(stages) == {"decode", "analysis", "encode"}
    for stage in ("decode", "analysis", "encode"):
        last = [e for e in events if e.stage == stage][-1]
        assert last.total and last.done == last.total, last
    decoded = [e for e in events if e.stage == "decode"][-1]
    assert decoded.total == info.frames or not info.frames
