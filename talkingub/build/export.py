"""Export kept clips to the folder layouts existing training code reads.

- `fomm`: `export/fomm/{train,test}/<clip_id>.mp4` - the video-folder layout read by the
  first-order-model, articulated-animation (MRAA) and Thin-Plate-Spline-Motion-Model
  `FramesDataset` (a folder of .mp4 files per split); files are hard links when possible.
- `png`: `export/png/{train,test}/<clip_id>/<frame:07d>.png` - per-frame folders (the layout
  those loaders also accept, and the one LIA's TED/VoxCeleb loaders read). PNGs are written
  with zlib level 1: lossless like any level, ~3x faster than PIL's default, ~10% larger.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from talkingub.errors import ConfigError
from talkingub.io.atomic import atomic_path

if TYPE_CHECKING:
    from talkingub.build.runner import BuildRun

LAYOUTS = ("fomm", "png")
PNG_LEVEL = 1  # zlib level of exported PNGs (lossless; speed over size)


def export_layouts(build: BuildRun, clips: list[dict[str, Any]]) -> list[Path]:
    written = []
    kept = [c for c in clips if c["status"] == "kept" and c.get("file") and c["n_sampled"] > 0]
    for layout in build.recipe.output.export:
        if layout not in LAYOUTS:
            raise ConfigError(f"unknown export layout {layout!r} (known: {', '.join(LAYOUTS)})")
        root = build.out_dir / "export" / layout
        shutil.rmtree(root, ignore_errors=True)
        for clip in kept:
            source = build.out_dir / "work" / clip["video_id"] / "clips" / clip["file"]
            written.append(_EXPORTERS[layout](source, root / clip["split"], clip["clip_id"]))
    return written


def _mp4(source: Path, folder: Path, clip_id: str) -> Path:
    target = folder / f"{clip_id}.mp4"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    return target


def _png(source: Path, folder: Path, clip_id: str) -> Path:
    import av

    target = folder / clip_id
    target.mkdir(parents=True, exist_ok=True)
    with av.open(str(source)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            frame.to_image().save(target / f"{i:07d}.png", compress_level=PNG_LEVEL)
    return target


_EXPORTERS = {"fomm": _mp4, "png": _png}
