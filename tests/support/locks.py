"""Another process holding a folder's lock (talkingub.io.lock), for the one-writer tests."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

HOLD = """
import sys, time
from pathlib import Path
from talkingub.io.lock import folder_lock
with folder_lock(Path(sys.argv[1]), action=sys.argv[2]):
    print("locked", flush=True)
    time.sleep(float(sys.argv[3]))
"""


@contextlib.contextmanager
def held_by_other_process(
    folder: Path, seconds: float = 60.0, action: str = "built"
) -> Iterator[subprocess.Popen[str]]:
    """A child process holding `folder`'s lock for `seconds` (it is ended on exit)."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder), action, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        yield child
    finally:
        child.kill()
        child.wait()


def holder_line(child: subprocess.Popen[str]) -> str:
    """How a refused run names `child`."""
    return f"pid {child.pid} on {socket.gethostname()}"
