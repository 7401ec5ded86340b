"""Crash injection for tests: `TALKINGUB_KILL_AT=<point>` makes the process SIGKILL itself
when it reaches that named point, so crash-safety tests can stop a build exactly mid-step.
Points: `fetch.downloaded`, `shard.half_written`, `parquet.written`, `clip.encoding`.
"""

from __future__ import annotations

import os
import signal

ENV = "TALKINGUB_KILL_AT"


def crash_point(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
