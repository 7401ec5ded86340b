"""A build SIGKILLed at several points resumes to exactly the uninterrupted result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from talkingub.build.verify import verify_build
from talkingub.io.faults import ENV
from tests.integration.conftest import assert_same_build

pytestmark = pytest.mark.slow

KILL_POINTS = ("fetch.downloaded", "clip.encoding", "shard.half_written", "parquet.written")


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
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if kill_at:
        env[ENV] = kill_at
    return subprocess.run(build_cmd(manifest, out), env=env, capture_output=True).returncode


def finished_looking(out: Path) -> set[str]:
    names = {"fetch.parquet", "videos.parquet", "clips.parquet", "frames.parquet", "SHA256SUMS"}
    found = {p.name for p in out.glob("*") if p.name in names}
    found |= {p.name for p in (out / "shards").glob("*.tar") if not p.name.startswith(".tmp-")}
    return found


def test_sigkill_at_each_point_then_resume_equals_clean_build(
    small_manifest: Path, small_build: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    seen: list[set[str]] = []
    for point in KILL_POINTS:
        code = run_build(small_manifest, out, kill_at=point)
        assert code == -9, f"the build did not reach {point} (exit {code})"
        seen.append(finished_looking(out))
    assert "fetch.parquet" not in seen[0]
    assert not any(n.endswith(".tar") for n in seen[2])  # the half-written shard is a temp file
    assert "videos.parquet" not in seen[3]  # killed while writing the first manifest
    assert run_build(small_manifest, out, kill_at=None) == 0
    assert verify_build(out) == []
    assert_same_build(out, small_build)
