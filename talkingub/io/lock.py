"""One writer per folder: an advisory `flock` on `<folder>/.lock`, held for a whole run.

The holder writes its pid, host and what it does into the file, so a second process can say
who is in its way. The kernel drops the lock when the holder's process ends (however it
ends), so a killed run never leaves a stale lock. Re-entrant within one process: `build`
holds its output folder's lock and its fetch stage takes it again without blocking itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from talkingub.errors import FolderBusyError, OutputFolderError

LOCK_NAME = ".lock"
_HELD: dict[str, int] = {}  # resolved folder -> how many times this process holds it
_GUARD = threading.Lock()
os.register_at_fork(after_in_child=_HELD.clear)  # a forked child holds nothing itself


def holds(folder: Path) -> bool:
    """Whether this process holds `folder`'s lock."""
    with _GUARD:
        return _HELD.get(_key(folder), 0) > 0


@contextlib.contextmanager
def folder_lock(
    folder: Path, wait: bool = False, action: str = "built", hint: str = "--wait waits for it"
) -> Iterator[None]:
    """Hold `folder/.lock` for the block (creating `folder`). Held by another process:
    `FolderBusyError` at once ("<folder> is being <action> by pid N on HOST"), or block until
    it is free when `wait`."""
    key = _key(folder)
    with _GUARD:
        if _HELD.get(key, 0) > 0:
            _HELD[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            _release(key)
        return
    fd = _acquire(folder, wait, action, hint)
    with _GUARD:
        _HELD[key] = 1
    try:
        yield
    finally:
        _release(key)
        os.close(fd)  # drops the lock


def _key(folder: Path) -> str:
    return os.path.realpath(folder)


def _release(key: str) -> None:
    with _GUARD:
        _HELD[key] -= 1
        if _HELD[key] <= 0:
            del _HELD[key]


def _acquire(folder: Path, wait: bool, action: str, hint: str) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    fd = _open_lock_file(folder / LOCK_NAME)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise FolderBusyError(str(folder), _holder(fd), action, hint) from None
            fcntl.flock(fd, fcntl.LOCK_EX)
        _write_holder(fd, action)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_lock_file(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputFolderError(
                f"{path} is a symbolic link: the lock file must be a plain file (remove the link)"
            ) from None
        raise


def _write_holder(fd: int, action: str) -> None:
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "action": action,
        "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)


def _holder(fd: int, attempts: int = 20) -> str:
    """The holder as "pid N on HOST", read from the lock file (it may still be writing it)."""
    for _ in range(attempts):
        try:
            record = json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
            return f"pid {int(record['pid'])} on {record['host']}"
        except (ValueError, KeyError, TypeError):
            time.sleep(0.05)
    return "another process"
