"""Export kept clips to the folder layouts existing training code reads.

- `fomm`: `export/fomm/{train,test}/<id>#<clip_id>.mp4` - the video-folder layout read by the
  first-order-model, articulated-animation (MRAA) and Thin-Plate-Spline-Motion-Model
  `FramesDataset`, also with `id_sampling: True` (vox-256, taichi-256, ted384): that loader
  groups a split folder's files by the name part before `#` and picks an id's videos with the
  glob `<id>*.mp4`. `<id>` is the clip's identity made file-safe and prefix-safe
  (`export_id`): characters outside `[A-Za-z0-9._-]` (and a leading `.`) are written `%XX`
  (their UTF-8 bytes), and `~` ends it, so no id's glob matches another identity's files
  (identities `ab` and `abc` give `ab~#...` and `abc~#...`). Both split folders always exist.
  (Rules read in first-order-model's `frames_dataset.py` at commit 69c89015: with
  `id_sampling` the training ids are the file names' parts before `#`, and an item is a random
  file of the glob `<id>*.mp4` in `train/`; without it every entry of the split folder is an
  item, an `.mp4` or a folder of frames.)
- `png`: `export/png/{train,test}/<id>#<clip_id>/<frame:07d>.png` - per-frame folders (the
  layout those loaders read without `id_sampling`, and the one LIA's loaders read; `PRESETS`
  maps each training code's name to its layout). PNGs are written with zlib level 1: lossless
  like any level, ~3x faster than PIL's default, ~10% larger.

By default an export holds the protocol's frames of each clip, those `talkingub bench`
scores: the `sampled` rows of frames.parquet (train: 3 fps; test: the first 100 frames of a
video). The mp4 is re-encoded with the clips' libx264 settings (one thread: reproducible
bytes), at the clip's rate when the frames are consecutive, else at `split.train_fps`; PNGs
are named by their clip frame index. `output.export_all_frames: true` exports every frame
instead (the mp4 is then a hard link to the clip when possible).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
from collections.abc import Callable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from talkingub.curate.config import EXPORT_PRESETS as PRESETS
from talkingub.curate.config import CropConfig
from talkingub.curate.run_types import BuildRun
from talkingub.io.atomic import atomic_path
from talkingub.io.outdir import Ledger, open_for_write, refuse_links
from talkingub.manifest.schema import check_table, output_version

LAYOUTS = ("fomm", "png")


def layouts_of(names: tuple[str, ...] | list[str]) -> list[str]:
    """The layouts `output.export` asks for: presets resolved, each once, in order (the
    config refuses unknown names)."""
    return list(dict.fromkeys(PRESETS[n] for n in names))


SPLITS = ("train", "test")
PNG_LEVEL = 1  # zlib level of exported PNGs (lossless; speed over size)
FRAME_NAME = re.compile(r"(\d{7})\.png")  # what `_png` names the frames of a clip
ID_END = "~"  # ends the id part of a name, and never occurs inside it: prefix-safe globs
_ID_CHAR = re.compile(r"[A-Za-z0-9._-]")
_ID_MAX = 64  # a longer escaped identity is cut, and ends with a hash of the identity


@dataclasses.dataclass(frozen=True)
class Job:
    source: Path  # the encoded clip
    split: str  # train | test
    name: str  # `<id>#<clip_id>`
    frames: tuple[int, ...] | None  # clip frame offsets to export; None: every frame
    rate: Fraction  # frame rate of a re-encoded mp4


def export_id(identity: str) -> str:
    """The id part of an exported name: file-safe, without `#`, glob characters or `~`,
    ended by `~` (so no id is a prefix of another). Distinct identities give distinct ids."""
    text = "".join(
        ch if _ID_CHAR.fullmatch(ch) else "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
        for ch in identity
    )
    if text.startswith("."):
        text = "%2E" + text[1:]  # not a hidden file
    if len(text) > _ID_MAX:
        digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:12]
        text = f"{text[: _ID_MAX - 13]}.{digest}"
    return text + ID_END


def entry_name(identity: str, clip_id: str) -> str:
    """`<id>#<clip_id>`: an exported clip's name (plus `.mp4` in the fomm layout)."""
    return f"{export_id(identity)}#{clip_id}"


def expected_files(layout: str, clip: Mapping[str, Any], frames: list[int] | None) -> set[str]:
    """The files (relative to OUT) the export writes for a kept clip: `frames` are its
    sampled clip frame offsets (frames.parquet), or None with `export_all_frames`."""
    entry = f"export/{layout}/{clip['split']}/{entry_name(clip['identity'], clip['clip_id'])}"
    if layout == "fomm":
        return {f"{entry}.mp4"}
    offsets = range(int(clip["n_frames"])) if frames is None else frames
    return {f"{entry}/{i:07d}.png" for i in offsets}


def export_layouts(build: BuildRun, clips: list[dict[str, Any]], ledger: Ledger) -> list[Path]:
    """Write each layout's entries (recorded in the ledger first), then delete the entries
    an earlier run wrote that this one did not. Nothing else under `export/` is touched."""
    output = build.recipe.output
    layouts = layouts_of(output.export)
    kept = [c for c in clips if c["status"] == "kept" and c.get("file") and c["n_sampled"] > 0]
    picks = None
    if output.export and kept and not output.export_all_frames:
        picks = sampled_frames(build.out_dir / "frames.parquet")
    jobs = [_job(build, clip, picks) for clip in kept]
    written = []
    for layout in layouts:
        root = build.out_dir / "export" / layout
        for split in SPLITS:  # the loaders look for both folders
            refuse_links(build.out_dir, root / split)
            (root / split).mkdir(parents=True, exist_ok=True)
        targets = [_TARGETS[layout](root, job) for job in jobs]
        ledger.claim(targets, adopt=build.force)
        written += [_EXPORTERS[layout](root, job, build.recipe.crop) for job in jobs]
        _remove_stale(ledger, root, set(targets))
    return written


def sampled_frames(frames_path: Path) -> dict[str, list[int]]:
    """clip_id -> its sampled clip frame offsets (ascending), from frames.parquet."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    check_table(frames_path, output_version("frames"))
    columns = ["clip_id", "clip_frame", "sampled"]
    if not set(columns) <= set(pq.read_schema(frames_path).names):
        return {}  # no frame rows at all
    table = pq.read_table(frames_path, columns=columns)
    table = table.filter(pc.fill_null(table["sampled"], False))
    picks: dict[str, list[int]] = {}
    for clip_id, offset in zip(table["clip_id"].to_pylist(), table["clip_frame"].to_pylist()):
        if offset is not None:
            picks.setdefault(clip_id, []).append(int(offset))
    return {clip_id: sorted(offsets) for clip_id, offsets in picks.items()}


def owned_output(ledger: Ledger) -> Callable[[str], bool]:
    """Whether the build wrote an output file (a relative path): a ledger entry, or a frame
    `_png` names in a clip folder that is one (a file of another name there is not)."""
    return lambda name: ledger.owns(name) or ledger.owns_in_folder(name, FRAME_NAME)


def _job(build: BuildRun, clip: dict[str, Any], picks: dict[str, list[int]] | None) -> Job:
    source = build.out_dir / "work" / clip["video_id"] / "clips" / clip["file"]
    name = entry_name(clip["identity"], clip["clip_id"])
    fps = Fraction(clip["fps"]).limit_denominator(1001)
    if picks is None:
        return Job(source, clip["split"], name, None, fps)
    frames = tuple(picks.get(clip["clip_id"], ()))
    if len(frames) != clip["n_sampled"]:
        raise RuntimeError(
            f"clip {clip['clip_id']}: {len(frames)} sampled frame rows, n_sampled "
            f"{clip['n_sampled']}"
        )
    consecutive = frames == tuple(range(frames[0], frames[0] + len(frames)))
    rate = fps if consecutive else Fraction(build.recipe.split.train_fps).limit_denominator(1001)
    return Job(source, clip["split"], name, frames, rate)


def _remove_stale(ledger: Ledger, root: Path, keep: set[Path]) -> None:
    stale = [e for e in ledger.under(ledger.relative(root)) if ledger.root / e not in keep]
    for name in stale:
        folder = ledger.root / name
        if folder.is_dir() and not folder.is_symlink():  # a png clip folder the build made
            refuse_links(ledger.root, folder)
            _remove_frames(folder, keep=set())
            _remove_if_empty(folder)
            ledger.forget([name])
    ledger.remove_files(stale)


def _mp4_target(root: Path, job: Job) -> Path:
    return root / job.split / f"{job.name}.mp4"


def _mp4(root: Path, job: Job, crop: CropConfig) -> Path:
    target = _mp4_target(root, job)
    target.parent.mkdir(parents=True, exist_ok=True)
    if job.frames is not None:
        with atomic_path(target) as tmp:
            _encode(job.source, tmp, job.frames, job.rate, crop)
        return target
    if _same_file(job.source, target):
        return target  # a re-run: already this clip's hard link
    with atomic_path(target) as tmp:
        try:
            os.link(job.source, tmp)
        except OSError:  # another filesystem, or no hard links: a copy
            shutil.copyfile(job.source, tmp)
    return target


def _encode(
    source: Path, target: Path, frames: tuple[int, ...], rate: Fraction, crop: CropConfig
) -> None:
    """Re-encode the frames of `source` at the offsets `frames` (ascending) into `target`,
    with the settings of the clips (talkingub.curate.encode)."""
    import av
    from av.video.frame import PictureType

    wanted, count = set(frames), 0
    with av.open(str(source)) as container, av.open(str(target), "w", format="mp4") as out:
        decoder = container.streams.video[0]
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height = decoder.codec_context.width, decoder.codec_context.height
        stream.pix_fmt = "yuv420p"
        stream.options = {
            "crf": str(crop.crf),
            "preset": crop.preset,
            "threads": str(crop.encode_threads),
        }
        stream.codec_context.thread_count = crop.encode_threads
        for index, frame in enumerate(container.decode(decoder)):
            if index > frames[-1]:
                break
            if index not in wanted:
                continue
            if frame.format.name != "yuv420p":
                frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = count, 1 / rate
            frame.pict_type = PictureType.NONE  # the encoder picks frame types, as for clips
            out.mux(stream.encode(frame))
            count += 1
        out.mux(stream.encode())
    if count != len(frames):
        raise RuntimeError(f"{source}: {count} of {len(frames)} sampled frames decoded")


def _same_file(source: Path, target: Path) -> bool:
    try:
        a, b = os.stat(source), os.lstat(target)
    except FileNotFoundError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _png_target(root: Path, job: Job) -> Path:
    return root / job.split / job.name


def _png(root: Path, job: Job, crop: CropConfig) -> Path:
    import av

    target = _png_target(root, job)
    target.mkdir(parents=True, exist_ok=True)
    wanted = None if job.frames is None else set(job.frames)
    last = None if job.frames is None else job.frames[-1]
    names = set()
    with av.open(str(job.source)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if last is not None and i > last:
                break
            if wanted is not None and i not in wanted:
                continue
            name = f"{i:07d}.png"
            with open_for_write(target / name) as handle:
                frame.to_image().save(handle, format="PNG", compress_level=PNG_LEVEL)
            names.add(name)
    _remove_frames(target, keep=names)  # frames of an earlier export of this clip
    return target


def _remove_frames(folder: Path, keep: set[str]) -> None:
    """Delete the frames `_png` names in `folder`, except `keep` (nothing else in it)."""
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if not e.is_dir(follow_symlinks=False)]
    for name in names:
        if FRAME_NAME.fullmatch(name) and name not in keep:
            (folder / name).unlink(missing_ok=True)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # something else is in it: not the build's, so it stays


_EXPORTERS: dict[str, Callable[[Path, Job, CropConfig], Path]] = {"fomm": _mp4, "png": _png}
_TARGETS: dict[str, Callable[[Path, Job], Path]] = {"fomm": _mp4_target, "png": _png_target}
