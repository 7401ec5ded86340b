"""A request-rate limit shared by every worker on one machine (threads or processes).

The next allowed request time lives in a small file guarded by `flock`; each caller reserves
the next slot and sleeps until it. With `per_minute <= 0` there is no limit.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path


class SharedRateLimiter:
    def __init__(self, state_file: Path, per_minute: float) -> None:
        self.state_file = Path(state_file)
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0

    def wait(self) -> float:
        """Block until this caller's slot; returns the seconds waited."""
        if self.interval <= 0:
            return 0.0
        delay = self._reserve()
        if delay > 0:
            time.sleep(delay)
        return delay

    def _reserve(self) -> float:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.read(fd, 64).decode() or "0"
            now = time.time()
            slot = max(now, float(raw))
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, f"{slot + self.interval:.6f}".encode())
            return slot - now
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
