"""Fault injection for tests.

- `TALKINGUB_KILL_AT=<point>` makes the process SIGKILL itself when it reaches that named
  point, so crash-safety tests can stop a build exactly mid-step. Points:
  `fetch.downloaded`, `shard.half_written`, `parquet.written`, `clip.encoding`.
- `TALKINGUB_FAULT_VIDEO=<video_id>:<action>[,<video_id>:<action>...]` makes the worker that
  processes that video misbehave when it starts on it: `kill` (SIGKILL itself, as a segfault
  or an OOM kill would end it), `hang` (sleep for a day, as a stuck native call would) or
  `enospc` (raise the OSError a write to a full disk raises: ENOSPC, no path).
"""

from __future__ import annotations

import errno
import os
import signal
import time

ENV = "TALKINGUB_KILL_AT"
VIDEO_ENV = "TALKINGUB_FAULT_VIDEO"
HANG_SECONDS = 24 * 3600.0


def crash_point(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def video_faults(spec: str | None = None) -> dict[str, str]:
    """Parse `TALKINGUB_FAULT_VIDEO` (or `spec`) into video_id -> action."""
    text = os.environ.get(VIDEO_ENV, "") if spec is None else spec
    pairs = (entry.partition(":") for entry in text.split(",") if entry.strip())
    return {vid.strip(): action.strip() for vid, _, action in pairs}


def video_fault(video_id: str) -> None:
    """Misbehave as `TALKINGUB_FAULT_VIDEO` asks for this video (a no-op otherwise)."""
    action = video_faults().get(video_id)
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "hang":
        time.sleep(HANG_SECONDS)
    elif action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
