"""Published checkpoints of the official code as bench-format checkpoints
(`talkingub weights import METHOD FILE`).

One module per method holds what the importer knows about its release (`layout.OfficialLayout`:
the file's entries, the published variants with their official settings, the sampling
convention and the explicit key map, cited from the reference code); `keymap.py` applies a map
with its checks; `importer.import_official` ties them together. A new method registers an
`OfficialLayout` subclass with `register_layout` and is listed in `BUILTIN` below; a release
that is a folder of files (LivePortrait) overrides `OfficialLayout.read`.
"""

from __future__ import annotations

import importlib

from talkingub.bench.official.importer import (
    ImportResult,
    default_output,
    import_official,
    layout_for,
    run_import,
)
from talkingub.bench.official.keymap import OfficialImportError, Rule
from talkingub.bench.official.layout import LAYOUTS, OfficialLayout, register_layout

BUILTIN = ("fomm", "lia", "liveportrait", "mraa", "tpsmm")

for _name in BUILTIN:
    importlib.import_module(f"talkingub.bench.official.{_name}")

__all__ = [
    "BUILTIN",
    "LAYOUTS",
    "ImportResult",
    "OfficialImportError",
    "OfficialLayout",
    "Rule",
    "default_output",
    "import_official",
    "layout_for",
    "register_layout",
    "run_import",
]
