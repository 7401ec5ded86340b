"""Fetch backend for local paths and file:// URLs: link or copy, never yt-dlp."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

from talkingub.io.atomic import atomic_path
from talkingub.video.probe import require_regular_file


def is_local(url: str) -> bool:
    scheme = urlparse(url).scheme.lower()
    return len(scheme) <= 1 or scheme == "file"


def local_source(url: str) -> Path:
    parsed = urlparse(url)
    if parsed.scheme.lower() == "file":
        return Path(unquote(parsed.path))
    return Path(url)


def place_local(source: Path, target: Path, mode: str) -> Path:
    """Put `source` at `target` (hard link when asked and possible, else an atomic copy).

    Raises `ProbeError` `not_found`, or `not_a_file` for a directory, FIFO or device (checked
    with stat, never opened: a FIFO would block and a device would copy forever)."""
    require_regular_file(source)
    with atomic_path(target) as tmp:
        if mode == "link":
            try:
                os.link(source, tmp)
                return target
            except OSError:
                pass  # other filesystem or no permission: fall back to a copy
        shutil.copyfile(source, tmp)
    return target
