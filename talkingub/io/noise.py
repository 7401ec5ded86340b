"""Third-party noise goes to a log file, not the terminal: the `W0000 ...` / `INFO: Created
TensorFlow Lite XNNPACK delegate` lines that MediaPipe, TFLite and absl write from C++ straight
to file descriptor 2, protobuf's deprecation `UserWarning`, other Python warnings and the
records of the `logging` module.

`route_noise(log, verbose)`, for its duration:
- fd 2 of this process is the log file (opened for appending), so native code here and in
  every process started meanwhile (the build's spawned workers and Ray's processes inherit
  fd 2) writes there;
- Python's `sys.stderr`, when it was fd 2, is pointed at a duplicate of the terminal's fd 2,
  so the rich progress bars, Click's messages and tracebacks still reach the terminal;
- Python warnings and `logging` records go to the log.
With `verbose` nothing is redirected (the noise reaches the terminal as before) and the
warnings and log records are copied into the log as well. `log` None: no log file (the
noise is discarded unless `verbose`). Routing is re-entrant: inside an active routing a
nested one does nothing, so everything lands in the outer log.

Logs are opened for appending (`O_APPEND`, never through a symbolic link), one header line
per run; nothing here deletes or truncates a log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, TextIO

from talkingub.io.outdir import symlink_error

LOGS_DIR = "logs"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_active: list[Path | None] = []  # the routings in effect in this process (at most one)


def log_path(out: Path, command: str) -> Path:
    """`OUT/logs/<command>.log`; under torchrun, rank N > 0 writes `<command>-rankN.log`."""
    rank = os.environ.get("RANK", "0")
    suffix = "" if rank in ("", "0") else f"-rank{rank}"
    return out / LOGS_DIR / f"{command}{suffix}.log"


def routing() -> bool:
    """Whether this process is inside `route_noise`."""
    return bool(_active)


@contextlib.contextmanager
def route_noise(log: Path | None, verbose: bool = False, title: str = "") -> Iterator[None]:
    """See the module doc."""
    if _active:
        yield
        return
    with contextlib.ExitStack() as stack:
        text = stack.enter_context(_open_log(log, title)) if log is not None else None
        stack.enter_context(_python_records(text, verbose))
        if not verbose:
            target = text.fileno() if text is not None else _devnull(stack)
            stack.enter_context(_native_to(target))
        _active.append(log)
        stack.callback(_active.pop)
        yield


@contextlib.contextmanager
def _open_log(log: Path, title: str) -> Iterator[IO[str]]:
    folder = log.parent
    if folder.is_symlink():
        raise symlink_error(folder)
    folder.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(log, flags, 0o644)
    except OSError:
        if os.path.islink(log):
            raise symlink_error(log) from None
        raise
    with open(fd, "a", buffering=1, encoding="utf-8", errors="backslashreplace") as text:
        stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        words = ["---", "talkingub", title, stamp, f"pid {os.getpid()}", "---"]
        text.write(" ".join(w for w in words if w) + "\n")
        yield text


def _devnull(stack: contextlib.ExitStack) -> int:
    fd = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
    stack.callback(os.close, fd)
    return fd


def _is_fd2(stream: Any) -> bool:
    try:
        return bool(stream.fileno() == 2)
    except (AttributeError, OSError, ValueError):
        return False


@contextlib.contextmanager
def _native_to(target: int) -> Iterator[None]:
    """fd 2 -> `target`; `sys.stderr` (when it is fd 2) -> a duplicate of the old fd 2."""
    original = sys.stderr
    _flush(original)
    try:
        terminal = os.dup(2)  # not inheritable: child processes see only the log
    except OSError:  # no fd 2 at all (a daemon): nothing to keep clean
        yield
        return
    swapped = _is_fd2(original)
    if swapped:
        sys.stderr = open(  # noqa: SIM115 (closed below)
            terminal,
            "w",
            buffering=1,
            encoding=getattr(original, "encoding", None) or "utf-8",
            errors="backslashreplace",
            closefd=False,
        )
    os.dup2(target, 2)
    try:
        yield
    finally:
        if swapped:
            _flush(sys.stderr)
            sys.stderr.close()
            sys.stderr = original
        os.dup2(terminal, 2)
        os.close(terminal)


def _flush(stream: Any) -> None:
    with contextlib.suppress(Exception):
        stream.flush()


@contextlib.contextmanager
def _python_records(log: IO[str] | None, verbose: bool) -> Iterator[None]:
    """Warnings and `logging` records into `log` (and, with `verbose`, the terminal too)."""
    root = logging.getLogger()
    handlers: list[logging.Handler] = []
    if log is not None:
        handlers.append(logging.StreamHandler(log))
    if verbose and not root.handlers:  # what logging's last resort would have shown
        handlers.append(logging.StreamHandler(sys.stderr))
        handlers[-1].setLevel(logging.WARNING)
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(handler)
    shown = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if log is not None:
            log.write(warnings.formatwarning(message, category, filename, lineno, line))
        if verbose:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = shown
        for handler in handlers:
            root.removeHandler(handler)
