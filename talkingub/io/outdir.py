"""Output ownership: what a build, refilter or fetch may write and delete in its folder OUT.

- **Mark**: `OUT/.talkingub-build` (JSON: schema version, creation time) says the folder is
  talkingub's. A non-empty folder without it is refused, unless `force` adopts it.
- **Ledger**: `OUT/.talkingub-ledger` lists (relative paths) the final outputs the build
  wrote: each is recorded *before* it is written, so a killed run never leaves an output the
  next run does not know. A run deletes only ledger entries, and never overwrites a file the
  ledger does not list (unless `force` adopts it): anything else in OUT is someone else's.
- **No links**: a symbolic link between OUT and a folder the run writes in (`OUT/shards`,
  `OUT/work/<id>/clips`, ...) is refused, never followed.
- **One writer**: `output_folder` holds `OUT/.lock` for the whole run (talkingub.io.lock), and
  only then removes the toolkit's own stale temporaries, in the folders the run writes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from talkingub.errors import OutputFolderError, stop_on_environment_error
from talkingub.io.atomic import atomic_write_text, remove_stale_temps
from talkingub.io.lock import LOCK_NAME, folder_lock, holds
from talkingub.manifest.schema import SCHEMA_VERSION

MARK_NAME = ".talkingub-build"
LEDGER_NAME = ".talkingub-ledger"
LEDGER_VERSION = 1
# Every folder a build, refilter or fetch writes in, relative to OUT ("*": each subfolder):
# checked for symbolic links, and cleaned of the toolkit's own stale temporaries.
WRITTEN_FOLDERS = (
    "",
    "shards",
    "contact_sheets",
    "report",  # the HTML report (talkingub.curate.html_report)
    "report/gallery",
    "export",
    "export/fomm",  # the layouts of talkingub.curate.export
    "export/fomm/*",
    "export/png",
    "export/png/*",
    "export/png/*/*",
    "work",
    "work/*",
    "work/*/clips",
    "work/*/thumbs",
    "raw",
    "raw/.partial",
    "raw/.partial/*",
    "fetch",
    "fetch/parts",
    "logs",  # talkingub.io.noise: third-party log output
)
# Files opened in place (not replaced by a rename): a link there would be written through.
OPENED_FILES = ("fetch/.ratelimit",)


@contextlib.contextmanager
def output_folder(
    out: Path, force: bool = False, wait: bool = False, action: str = "built"
) -> Iterator[None]:
    """Own `out` for a run: refuse a foreign folder (before creating anything), hold its lock,
    mark it, refuse symbolic links, remove stale temporaries. Re-entrant (nested runs of one
    process, e.g. the fetch stage of a build, do nothing more)."""
    if holds(out):
        with folder_lock(out):
            yield
        return
    with stop_on_environment_error(out):
        _check(out, force)  # a refused run changes nothing, not even the lock file
    with folder_lock(out, wait=wait, action=action):
        with stop_on_environment_error(out):
            folders = _check(out, force)  # again: the folder may have changed
            ours = out.is_dir() and _marked(out)  # an adopted folder's temps are not known ours
            claim(out, force)
            for folder in folders if ours else []:
                remove_stale_temps(folder, recursive=False)
        yield


def _check(out: Path, force: bool) -> list[Path]:
    """The folders the run writes in, after refusing a foreign folder or a link."""
    check_claimable(out, force)
    if not out.is_dir():
        return []
    for name in OPENED_FILES:
        refuse_links(out, out / name)
    return written_folders(out)


def check_claimable(out: Path, force: bool) -> None:
    """Raise `OutputFolderError` unless `out` is new, empty, marked as talkingub's, or `force`."""
    if out.is_symlink() and not out.exists():
        raise OutputFolderError(f"{out} is a broken symbolic link")
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"{out} exists and is not a folder")
    if not out.is_dir() or force or _marked(out):
        return
    others = sorted(set(os.listdir(out)) - {LOCK_NAME})
    if others:
        raise OutputFolderError(
            f"{out} is not empty ({len(others)} entries, e.g. {others[0]!r}) and was not made "
            f"by talkingub (no {MARK_NAME}): choose a new or empty folder, or pass --force to "
            "build in it (nothing already there is deleted)"
        )


def claim(out: Path, force: bool) -> None:
    """Mark `out` as talkingub's (after `check_claimable`, under the lock)."""
    check_claimable(out, force)
    if _marked(out):
        return
    record = {
        "tool": "talkingub",
        "schema": SCHEMA_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "adopted": bool(set(os.listdir(out)) - {LOCK_NAME}),
    }
    atomic_write_text(out / MARK_NAME, json.dumps(record, indent=2, sort_keys=True) + "\n")


def _marked(out: Path) -> bool:
    mark = out / MARK_NAME
    if mark.is_symlink():
        raise OutputFolderError(f"{mark} is a symbolic link: not a talkingub mark")
    return mark.is_file()


def written_folders(out: Path) -> list[Path]:
    """The existing folders of `WRITTEN_FOLDERS`; `OutputFolderError` names the first
    symbolic link found on the way to one of them."""
    found: dict[Path, None] = {}
    for pattern in WRITTEN_FOLDERS:
        found.update(dict.fromkeys(_expand(out, pattern)))
    return list(found)


def _expand(out: Path, pattern: str) -> list[Path]:
    current = [out]
    for part in PurePosixPath(pattern).parts:
        current = [path for folder in current for path in _step(folder, part)]
    return current


def _step(folder: Path, part: str) -> list[Path]:
    if part != "*":
        names = [part]
    else:
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if e.is_dir())  # follows: catches links
    paths = []
    for name in names:
        path = folder / name
        if path.is_symlink():
            raise symlink_error(path)
        if path.is_dir():
            paths.append(path)
    return paths


def symlink_error(path: Path) -> OutputFolderError:
    return OutputFolderError(
        f"{path} is a symbolic link: talkingub never writes or deletes through a link inside "
        "its output folder (replace it with a real folder)"
    )


def refuse_links(root: Path, path: Path) -> None:
    """`OutputFolderError` when a component of `path` below `root` (the last one included)
    is a symbolic link."""
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        if current.is_symlink():
            raise symlink_error(current)


@contextlib.contextmanager
def open_for_write(path: Path) -> Iterator[IO[bytes]]:
    """Open `path` for writing (created or truncated), never through a symbolic link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise symlink_error(path) from None
        raise
    with os.fdopen(fd, "wb") as handle:
        yield handle


class Ledger:
    """`OUT/.talkingub-ledger`: the final outputs written in OUT (relative POSIX paths; a
    folder entry stands for the folder the run created and the files it names in it).
    Rewritten atomically on each change; entries that are not plain relative paths inside
    OUT are ignored, so a tampered ledger can never make a run delete outside OUT."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / LEDGER_NAME
        self.entries: set[str] = self._load()

    def _load(self) -> set[str]:
        if self.path.is_symlink():
            raise symlink_error(self.path)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return set()
        except (OSError, ValueError):
            return set()  # unreadable: nothing is known to be ours, so nothing is deleted
        paths = data.get("paths") if isinstance(data, dict) else None
        return {p for p in paths if _plain(p)} if isinstance(paths, list) else set()

    def _save(self) -> None:
        record = {"version": LEDGER_VERSION, "paths": sorted(self.entries)}
        atomic_write_text(self.path, json.dumps(record, indent=0) + "\n")

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def owns(self, path: Path | str) -> bool:
        """Whether `path` (relative POSIX path, or a path in OUT) is an entry."""
        return (path if isinstance(path, str) else self.relative(path)) in self.entries

    def owns_in_folder(self, path: Path | str, names: re.Pattern[str]) -> bool:
        """Whether `path` is named as `names` says, in a folder that is an entry."""
        name = PurePosixPath(path if isinstance(path, str) else self.relative(path))
        return names.fullmatch(name.name) is not None and self.owns(name.parent.as_posix())

    def under(self, folder: str) -> list[str]:
        """Entries below `folder` (a relative POSIX path), sorted."""
        prefix = folder.rstrip("/") + "/"
        return sorted(e for e in self.entries if e.startswith(prefix))

    def claim(self, paths: Iterable[Path], adopt: bool = False) -> None:
        """Record `paths` before they are written. One that exists but is not ours is
        refused (`OutputFolderError`), unless `adopt` (`--force`) takes it over."""
        new = sorted({self.relative(p) for p in paths} - self.entries)
        for name in new:
            refuse_links(self.root, self.root / name)
        if not adopt:
            foreign = [n for n in new if os.path.lexists(self.root / n)]
            if foreign:
                raise OutputFolderError(
                    f"{self.root / foreign[0]} is in the way: talkingub did not write it "
                    f"(not in {LEDGER_NAME}) and does not overwrite it; move it away, or pass "
                    f"--force to let the run replace it"
                    + (f" ({len(foreign) - 1} more like it)" if len(foreign) > 1 else "")
                )
        if new:
            self.entries.update(new)
            self._save()

    def forget(self, names: Iterable[str]) -> None:
        gone = set(names) & self.entries
        if gone:
            self.entries -= gone
            self._save()

    def remove_files(self, names: Iterable[str]) -> list[Path]:
        """Delete the listed entries that are ours and not folders (files, or links: never
        followed, nor deleted through) and forget them; returns what was deleted."""
        removed, gone = [], []
        for name in sorted(set(names) & self.entries):
            path = self.root / name
            refuse_links(self.root, path.parent)
            if path.is_dir() and not path.is_symlink():
                continue  # a folder entry: its owner clears it (see forget)
            if os.path.lexists(path):
                path.unlink()
                removed.append(path)
            gone.append(name)
        self.forget(gone)
        return removed


def _plain(name: object) -> bool:
    if not isinstance(name, str) or not name or name.startswith("/") or "\\" in name:
        return False
    normal = PurePosixPath(name)
    return (
        normal.as_posix() == name
        and ".." not in normal.parts
        and name not in (MARK_NAME, LEDGER_NAME, LOCK_NAME)
    )
