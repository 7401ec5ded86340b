"""Write to a temporary name in the same folder, then rename: a killed run never leaves a
file under its final name that looks finished."""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

TMP_MARK = ".tmp-"


def temp_name(final: Path) -> Path:
    """A unique sibling of `final` that readers recognise as unfinished."""
    return final.with_name(f"{TMP_MARK}{uuid.uuid4().hex[:8]}-{final.name}")


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


def remove_stale_temps(folder: Path) -> int:
    """Delete temporary files a killed run left behind; returns how many."""
    count = 0
    if folder.is_dir():
        for path in folder.rglob(f"{TMP_MARK}*"):
            path.unlink(missing_ok=True)
            count += 1
    return count
