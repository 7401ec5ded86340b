"""Explicit downloads for the weights registry: resumable HTTP(S) with hash check.

`fetch(name)` downloads `spec.url` to `<file>.part` (resuming it with an HTTP Range request
when a previous attempt was cut), extracts `spec.archive_member` when the URL is a zip,
checks the sha256 and only then moves the file under its final name. A wrong hash deletes
the download and raises `WeightsHashError`. Unpinned entries record the digest they saw.
"""

from __future__ import annotations

import http.client
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from talkingub.errors import WeightsMissingError
from talkingub.io.atomic import atomic_path, atomic_write_text, sha256_file
from talkingub.weights.registry import hash_matches, local_path, record_path, spec, verify

CHUNK = 1 << 20
USER_AGENT = "talkingub-weights/1"
Progress = Callable[[int, int | None], None]  # (bytes so far, total or None)


class WeightsHashError(WeightsMissingError):
    """A downloaded file does not match the registry sha256 (the download was deleted)."""


def fetch(
    name: str,
    force: bool = False,
    url: str | None = None,
    timeout: float = 60.0,
    progress: Progress | None = None,
) -> Path:
    """Download weights `name` into the cache (no-op when a verified copy is there)."""
    entry = spec(name)
    final = local_path(name)
    if final.is_file() and not force and verify(name):
        return final
    part = final.with_name(final.name + ".part")
    download(url or entry.url, part, timeout, progress)
    source = _extract(part, entry.archive_member) if entry.archive_member else part
    _check_and_install(name, source, final)
    part.unlink(missing_ok=True)
    return final


def download(url: str, part: Path, timeout: float, progress: Progress | None = None) -> Path:
    """Fetch `url` into `part`, continuing from its current size when the server allows."""
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to send: the part is complete
            return part
        raise WeightsMissingError(f"download of {url} failed: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise WeightsMissingError(f"download of {url} failed: {exc}") from None
    with response:
        resumed = have and response.status == 206
        total = _total(response, have if resumed else 0)
        _stream(response, part, "ab" if resumed else "wb", total, progress)
    return part


def _total(response: object, offset: int) -> int | None:
    length = getattr(response, "headers", {}).get("Content-Length")
    return offset + int(length) if length else None


def _stream(
    response: object, part: Path, mode: str, total: int | None, progress: Progress | None
) -> None:
    read = response.read  # type: ignore[attr-defined]
    with open(part, mode) as handle:
        done = handle.tell()
        try:
            for block in iter(lambda: read(CHUNK), b""):
                handle.write(block)
                done += len(block)
                if progress:
                    progress(done, total)
        except (http.client.HTTPException, OSError):
            total = total or done + 1  # reported below as an interrupted download
        handle.flush()
        os.fsync(handle.fileno())
        done = handle.tell()
    if total is not None and done < total:
        raise WeightsMissingError(
            f"download stopped at {done} of {total} bytes; run the same fetch again to resume"
        )


def _extract(archive: Path, member: str) -> Path:
    """Copy the zip member whose base name is `member` next to the archive."""
    target = archive.with_name(archive.name + ".member")
    try:
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if Path(n).name == member]
            if not names:
                raise WeightsMissingError(f"{member} not found inside {archive.name}")
            with zf.open(names[0]) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
    except zipfile.BadZipFile:
        archive.unlink(missing_ok=True)
        raise WeightsMissingError(
            f"{archive.name} is not a zip archive; download removed"
        ) from None
    archive.unlink(missing_ok=True)
    return target


def _check_and_install(name: str, source: Path, final: Path) -> None:
    entry = spec(name)
    digest = sha256_file(source)
    if entry.pinned and not hash_matches(digest, entry.sha256):
        source.unlink(missing_ok=True)
        raise WeightsHashError(
            f"weights {name!r}: downloaded sha256 {digest} does not match the registry "
            f"({entry.sha256}); the file was deleted"
        )
    with atomic_path(final) as tmp:
        shutil.move(str(source), tmp)
    if not entry.pinned:
        atomic_write_text(record_path(name), digest + "\n")
