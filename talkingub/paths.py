"""Where the toolkit keeps caches (weights, generated demo media, helper binaries)."""

from __future__ import annotations

import os
from pathlib import Path


def home_dir() -> Path:
    """`TALKINGUB_HOME`, else `$XDG_CACHE_HOME/talkingub`, else `~/.cache/talkingub`."""
    explicit = os.environ.get("TALKINGUB_HOME")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "talkingub"


def cache_dir() -> Path:
    path = home_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path
