"""`talkingub bench` stays importable on a GPU machine without the build's vision stack:
importing its modules and running its CLI's help pulls in none of the build-only libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
BUILD_ONLY = ("mediapipe", "dlib", "yt_dlp", "scenedetect")

SCRIPT = """
import json, sys
import talkingub.bench.runner, talkingub.bench.train, talkingub.bench.evaluate
import talkingub.bench.leaderboard, talkingub.bench.figures, talkingub.bench.events
from talkingub.cli import main
for args in (["bench", "--help"], ["bench", "run", "--help"], ["bench", "train", "--help"]):
    try:
        main.main(args, prog_name="talkingub", standalone_mode=False)
    except SystemExit:
        pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_bench_imports_and_help_load_no_build_only_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert {"torch", "talkingub", "click"} <= loaded  # the script did import the bench
    assert loaded.isdisjoint(BUILD_ONLY), sorted(loaded & set(BUILD_ONLY))
