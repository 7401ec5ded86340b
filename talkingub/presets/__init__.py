"""Presets shipped inside the package: the Talking-UB build recipe (`recipes/`), the bench
protocols (`protocols/`) and the PTUS paper's published numbers (`paper/`).

They are package data read with `importlib.resources`, so a wheel install finds them as the
source tree does. `preset_path(kind, name)` gives a file path (`ConfigError` naming what
exists when the name is unknown); `preset_names(kind)` lists what a kind holds.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path
from typing import Literal

from talkingub.errors import ConfigError

PresetKind = Literal["recipes", "protocols", "paper"]
KINDS: tuple[PresetKind, ...] = ("recipes", "protocols", "paper")
SUFFIX = ".yaml"

# Files handed out as paths stay valid for the life of the process (a zipped install
# extracts them to temporary files that are removed at exit).
_files = contextlib.ExitStack()
atexit.register(_files.close)


def preset_names(kind: PresetKind) -> list[str]:
    """Names (file stems) of the presets of `kind`, sorted."""
    folder = resources.files(__name__).joinpath(_checked(kind))
    return sorted(
        entry.name[: -len(SUFFIX)]
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(SUFFIX)
    )


def preset_path(kind: PresetKind, name: str) -> Path:
    """Path of preset `name` of `kind` (e.g. `preset_path("protocols", "tiny-cpu")`)."""
    entry = resources.files(__name__).joinpath(_checked(kind), f"{name}{SUFFIX}")
    if not entry.is_file():
        have = ", ".join(preset_names(kind)) or "none"
        raise ConfigError(f"no {kind[:-1]} preset {name!r} (have: {have})")
    return Path(_files.enter_context(resources.as_file(entry)))


def _checked(kind: str) -> str:
    if kind not in KINDS:
        raise ConfigError(f"unknown preset kind {kind!r} (have: {', '.join(KINDS)})")
    return kind
