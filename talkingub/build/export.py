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
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from talkingub.errors import ConfigError
from talkingub.io.atomic import atomic_path
from talkingub.io.outdir import Ledger, open_for_write, refuse_links

if TYPE_CHECKING:
    from talkingub.build.runner import BuildRun

LAYOUTS = ("fomm", "png")
PNG_LEVEL = 1  # zlib level of exported PNGs (lossless; speed over size)
FRAME_NAME = re.compile(r"(\d{7})\.png")  # what `_png` names the frames of a clip

Job = tuple[Path, Path, str]  # source clip, split folder, clip id


def export_layouts(build: BuildRun, clips: list[dict[str, Any]], ledger: Ledger) -> list[Path]:
    """Write each layout's entries (recorded in the ledger first), then delete the entries
    an earlier run wrote that this one did not. Nothing else under `export/` is touched."""
    written = []
    kept = [c for c in clips if c["status"] == "kept" and c.get("file") and c["n_sampled"] > 0]
    for layout in build.recipe.output.export:
        if layout not in LAYOUTS:
            raise ConfigError(f"unknown export layout {layout!r} (known: {', '.join(LAYOUTS)})")
        root = build.out_dir / "export" / layout
        jobs = [_job(build, root, clip) for clip in kept]
        targets = [_TARGETS[layout](folder, clip_id) for _, folder, clip_id in jobs]
        ledger.claim(targets, adopt=build.force)
        written += [_EXPORTERS[layout](*job) for job in jobs]
        _remove_stale(ledger, root, set(targets))
    return written


def owned_output(ledger: Ledger) -> Callable[[str], bool]:
    """Whether the build wrote an output file (a relative path): a ledger entry, or a frame
    `_png` names in a clip folder that is one (a file of another name there is not)."""
    return lambda name: ledger.owns(name) or ledger.owns_in_folder(name, FRAME_NAME)


def _job(build: BuildRun, root: Path, clip: dict[str, Any]) -> Job:
    source = build.out_dir / "work" / clip["video_id"] / "clips" / clip["file"]
    return source, root / clip["split"], clip["clip_id"]


def _remove_stale(ledger: Ledger, root: Path, keep: set[Path]) -> None:
    stale = [e for e in ledger.under(ledger.relative(root)) if ledger.root / e not in keep]
    for name in stale:
        folder = ledger.root / name
        if folder.is_dir() and not folder.is_symlink():  # a png clip folder the build made
            refuse_links(ledger.root, folder)
            _remove_frames(folder, first=0)
            _remove_if_empty(folder)
            ledger.forget([name])
    ledger.remove_files(stale)


def _mp4_target(folder: Path, clip_id: str) -> Path:
    return folder / f"{clip_id}.mp4"


def _mp4(source: Path, folder: Path, clip_id: str) -> Path:
    target = _mp4_target(folder, clip_id)
    folder.mkdir(parents=True, exist_ok=True)
    if _same_file(source, target):
        return target  # a re-run: already this clip's hard link
    with atomic_path(target) as tmp:
        try:
            os.link(source, tmp)
        except OSError:  # another filesystem, or no hard links: a copy
            shutil.copyfile(source, tmp)
    return target


def _same_file(source: Path, target: Path) -> bool:
    try:
        a, b = os.stat(source), os.lstat(target)
    except FileNotFoundError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _png_target(folder: Path, clip_id: str) -> Path:
    return folder / clip_id


def _png(source: Path, folder: Path, clip_id: str) -> Path:
    import av

    target = _png_target(folder, clip_id)
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    with av.open(str(source)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            with open_for_write(target / f"{i:07d}.png") as handle:
                frame.to_image().save(handle, format="PNG", compress_level=PNG_LEVEL)
            count = i + 1
    _remove_frames(target, first=count)  # an earlier, longer export of this clip
    return target


def _remove_frames(folder: Path, first: int) -> None:
    """Delete the frames `_png` names, from number `first` on (nothing else in `folder`)."""
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if not e.is_dir(follow_symlinks=False)]
    for name in names:
        match = FRAME_NAME.fullmatch(name)
        if match and int(match.group(1)) >= first:
            (folder / name).unlink(missing_ok=True)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # something else is in it: not the build's, so it stays


_EXPORTERS: dict[str, Callable[[Path, Path, str], Path]] = {"fomm": _mp4, "png": _png}
_TARGETS: dict[str, Callable[[Path, str], Path]] = {"fomm": _mp4_target, "png": _png_target}
