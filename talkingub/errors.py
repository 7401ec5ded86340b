"""Typed exceptions. Library code raises these; the CLI turns them into one-line messages."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class TalkingubError(Exception):
    """Base class of every error the toolkit raises on purpose."""

    exit_code = 1


class ConfigError(TalkingubError):
    """A recipe, protocol or option is invalid (unknown key, wrong type, bad value)."""

    exit_code = 2


class PluginError(ConfigError):
    """A plugin module named in a recipe cannot be imported; names the module."""

    def __init__(self, module: str, cause: str) -> None:
        self.module = module
        super().__init__(f"plugin module {module!r} could not be imported: {cause}")


class SplitLeakError(TalkingubError):
    """A bug guard: the train/test split puts one identity, source or duplicate group in both."""


class ManifestError(TalkingubError):
    """A source manifest is malformed; names the row and column at fault."""

    exit_code = 2

    def __init__(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.row = row
        self.column = column
        where = []
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        prefix = f"manifest {', '.join(where)}: " if where else "manifest: "
        super().__init__(prefix + message)


class SchemaVersionError(ConfigError):
    """A table or build folder records a schema version this talkingub cannot read (another
    major version, table or kind of file); names the version found and the one supported."""

    def __init__(self, where: str, found: str, supported: str) -> None:
        self.where = where
        self.found = found
        self.supported = supported
        super().__init__(
            f"{where}: schema version {found!r} is not supported (this talkingub reads "
            f"{supported}): rebuild it with this talkingub, or read it with the version that "
            "wrote it"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.where, self.found, self.supported))


class DependencyError(TalkingubError):
    """An optional dependency or external tool is missing; the message names the fix."""

    exit_code = 3


class WeightsMissingError(TalkingubError):
    """Model weights are not in the local cache; the message names `talkingub weights fetch`."""

    exit_code = 3


class OutputFolderError(TalkingubError):
    """An output folder cannot be written safely: it is not empty and not talkingub's (no
    ownership mark), a symbolic link sits between it and a file to write or delete, or a
    file the run did not write is in the way. The message names the path and the way out."""

    exit_code = 2


class FolderBusyError(TalkingubError):
    """Another process holds the folder's lock (one writer per folder); names its pid and host."""

    exit_code = 2

    def __init__(self, folder: str, holder: str, action: str, hint: str = "") -> None:
        self.folder = folder
        self.holder = holder
        super().__init__(f"{folder} is being {action} by {holder}" + (f" ({hint})" if hint else ""))


class ReasonedError(TalkingubError):
    """A per-row failure that carries a reason code (see talkingub.fetch.reasons.REASONS)."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


# What the machine, not the input, ran out of or refused (the errno, its hint).
_ENVIRONMENT_HINTS: dict[int, str] = {
    errno.ENOSPC: "free space and run again to resume",
    errno.EDQUOT: "free space or raise the disk quota and run again to resume",
    errno.EFBIG: "raise the file size limit (ulimit -f) or put OUT on a filesystem that "
    "allows larger files, and run again to resume",
    errno.EROFS: "make the filesystem writable (or choose another OUT) and run again to resume",
    errno.EACCES: "fix the permissions (or choose another OUT) and run again to resume",
    errno.EPERM: "fix the permissions (or choose another OUT) and run again to resume",
}
# Only a write raises these, and a build writes only under OUT (its temporaries are siblings
# of their final files), so they stop the run wherever they come from.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})
# Reading an unreadable *source* raises these too: they stop the run only for a path in OUT.
ACCESS_ERRNOS = frozenset({errno.EACCES, errno.EPERM})
UNNAMED = "a file the system did not name"


class EnvironmentStop(TalkingubError):
    """Writing the output failed for a reason of the machine, not of any video: no space
    (ENOSPC), quota (EDQUOT), file size limit (EFBIG), read-only filesystem (EROFS), no
    permission in OUT (EACCES, EPERM). The run stops (exit 3) instead of recording a failed
    video; every write is atomic, so a rerun resumes. Picklable: a worker process (or a Ray
    task) sends it back to the parent, which stops the run. See `environment_stop` for which
    OSErrors it stands for."""

    exit_code = 3

    def __init__(self, path: str, errno: int) -> None:
        self.path = path
        self.errno = errno
        name = _errno_name(errno)
        what = os.strerror(errno)
        verb = "writing" if errno in WRITE_ERRNOS else "at"
        hint = _ENVIRONMENT_HINTS.get(errno, "fix it and run again to resume")
        super().__init__(
            f"{what[:1].lower()}{what[1:]} ({name}) {verb} {path}: the run stopped; {hint}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.errno))


def _errno_name(code: int) -> str:
    return errno.errorcode.get(code, f"errno {code}")


def environment_stop(
    exc: BaseException, out: Path | None, fallback: str | os.PathLike[str] | None = None
) -> EnvironmentStop | None:
    """The `EnvironmentStop` that `exc` stands for, or None when it is an input's own failure.

    The rule: the first OSError in `exc`'s cause chain (`__cause__`, and yt-dlp's `exc_info` /
    `cause`) whose errno is
    - ENOSPC, EDQUOT, EFBIG or EROFS stops the run wherever it comes from (only writes raise
      them). It is named by its path inside `out`, else its own path, else `fallback`
      (a failed `write()` reports no path);
    - EACCES or EPERM stops the run only when one of its paths (`filename`, `filename2`) is
      inside `out` (None: never): an unreadable source video, or an error without a path,
      stays a failure of that row.
    """
    for link in _cause_chain(exc):
        if not isinstance(link, OSError) or link.errno not in _ENVIRONMENT_HINTS:
            continue
        paths = [p for p in (_as_path(link.filename), _as_path(link.filename2)) if p]
        inside = [p for p in paths if out is not None and _inside(p, out)]
        if inside:
            return EnvironmentStop(str(inside[0]), link.errno)
        if link.errno in WRITE_ERRNOS:
            named = paths[0] if paths else fallback
            return EnvironmentStop(str(named) if named is not None else UNNAMED, link.errno)
    return None


def _cause_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        exc_info = getattr(current, "exc_info", None)  # yt-dlp's DownloadError
        cause = getattr(current, "cause", None)  # yt-dlp's networking errors
        if isinstance(exc_info, tuple) and len(exc_info) > 1:
            cause = exc_info[1]
        current = cause if isinstance(cause, BaseException) else current.__cause__
    return chain


def _as_path(value: object) -> Path | None:
    if isinstance(value, str | bytes | os.PathLike):
        return Path(os.fsdecode(value))
    return None


def _inside(path: Path, folder: Path) -> bool:
    """`path` is `folder` or below it, as written or with symlinks resolved."""
    pairs = (
        (Path(os.path.abspath(path)), Path(os.path.abspath(folder))),
        (Path(os.path.realpath(path)), Path(os.path.realpath(folder))),
    )
    return any(p == f or f in p.parents for p, f in pairs)


@contextlib.contextmanager
def stop_on_environment_error(out: Path, fallback: Path | None = None) -> Iterator[None]:
    """Turn an environment OSError raised in the block into `EnvironmentStop` (see
    `environment_stop`; a write that reports no path is named `fallback`, else `out`)."""
    try:
        yield
    except EnvironmentStop:
        raise
    except Exception as exc:
        stop = environment_stop(exc, out, fallback or out)
        if stop is None:
            raise
        raise stop from exc
