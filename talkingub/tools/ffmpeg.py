"""Locate an ffmpeg binary: a system ffmpeg first, else the static one imageio-ffmpeg ships.

yt-dlp looks for `ffmpeg` on PATH only (section downloads need it), so `ensure_on_path`
links the bundled binary as `<cache>/bin/ffmpeg` and prepends that folder to PATH.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

from talkingub.errors import DependencyError
from talkingub.paths import cache_dir


@functools.lru_cache(maxsize=1)
def ffmpeg_binary() -> str:
    system = shutil.which("ffmpeg")
    if system:
        return system
    try:
        import imageio_ffmpeg
    except ImportError:
        raise DependencyError(
            "no ffmpeg found: install it (apt-get install ffmpeg) or `pip install imageio-ffmpeg`"
        ) from None
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def ensure_on_path() -> str:
    """Make `ffmpeg` resolvable on PATH for child tools; returns the binary used."""
    binary = ffmpeg_binary()
    if shutil.which("ffmpeg"):
        return binary
    bin_dir = cache_dir() / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    link = bin_dir / "ffmpeg"
    if not link.exists():
        tmp = bin_dir / f".ffmpeg-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(binary)
        os.replace(tmp, link)
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    return binary


@functools.lru_cache(maxsize=1)
def ffmpeg_version() -> str:
    try:
        out = subprocess.run(
            [ffmpeg_binary(), "-version"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired, DependencyError):
        return "unavailable"
    first = out.splitlines()[0] if out else ""
    return first.split(" ")[2] if first.startswith("ffmpeg version") else first or "unknown"


__all__ = ["ensure_on_path", "ffmpeg_binary", "ffmpeg_version"]
