"""Write to a temporary name in the same folder, then rename: a killed run never leaves a
file under its final name that looks finished."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

TMP_MARK = ".tmp-"
# what `temp_name` makes, and only that: `.tmp-<8 random hex digits>-<final name>`
OWN_TEMP = re.compile(re.escape(TMP_MARK) + r"[0-9a-f]{8}-.+", re.DOTALL)


def temp_name(final: Path) -> Path:
    """A sibling of `final`, unique to this write (so to this run), that readers recognise
    as unfinished and stale-temp cleanup recognises as the toolkit's own (`OWN_TEMP`)."""
    return final.with_name(f"{TMP_MARK}{uuid.uuid4().hex[:8]}-{final.name}")


def is_own_temp(name: str) -> bool:
    return OWN_TEMP.fullmatch(name) is not None


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path; on success fsync and rename it to `final`, on error remove it."""
    final_path = Path(final)
    final_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final_path)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, final_path)
    except OSError as exc:
        if exc.filename is None:  # writers (PIL, pyarrow) often omit it: name the file
            exc.filename = str(final_path)
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def _fsync(path: Path) -> None:
    if path.is_file():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())


def atomic_write_bytes(final: str | os.PathLike[str], data: bytes) -> Path:
    with atomic_path(final) as tmp:
        tmp.write_bytes(data)
    return Path(final)


def atomic_write_text(final: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(final, text.encode("utf-8"))


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def remove_stale_temps(folder: Path, recursive: bool = True) -> int:
    """Delete the temporaries a killed run left in `folder` (and, when `recursive`, in its
    subfolders); returns how many. Only regular files named as `temp_name` names them: any
    other `.tmp-*` file is someone else's. Symbolic links are never followed nor removed.
    Call it only on folders the toolkit writes, while no other run writes there."""
    count = 0
    if not folder.is_dir() or folder.is_symlink():
        return count
    for current, dirs, files in os.walk(folder):  # never enters symlinked folders
        for name in files:
            path = Path(current) / name
            if is_own_temp(name) and path.is_file() and not path.is_symlink():
                path.unlink(missing_ok=True)
                count += 1
        if not recursive:
            dirs.clear()
    return count
