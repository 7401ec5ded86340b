"""Guards for tests of code that must never read a file: a hang turns into a failure, and
every path `verify` hashes is recorded."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def fail_after(seconds: int, why: str) -> Iterator[None]:
    """Raise TimeoutError(why) in the main thread if the block runs past `seconds` (a read of
    a FIFO blocks forever; this makes it a failure instead)."""

    def timeout(signum: int, frame: object) -> None:
        raise TimeoutError(why)

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def record_verify_hashes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every path `talkingub.curate.verify` hashes from now on (it still hashes them)."""
    from talkingub.curate import verify

    seen: list[Path] = []
    real = verify.sha256_file

    def recording(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
        seen.append(Path(path))
        return real(path, chunk)

    monkeypatch.setattr(verify, "sha256_file", recording)
    return seen
