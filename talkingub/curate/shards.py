"""WebDataset tar shards (one sample = one clip: `mp4` + `json`, talkingub.manifest.schema
`ShardSample`) and SHA256SUMS.

Tar members get a fixed mtime/owner, so the same clips give byte-identical shards. Each
shard is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from talkingub.io.atomic import TMP_MARK, atomic_path, atomic_write_text, sha256_file
from talkingub.io.faults import crash_point
from talkingub.io.outdir import Ledger
from talkingub.manifest.schema import ShardSample

FIXED_MTIME = 0.0


def write_shards(
    samples: list[ShardSample], folder: Path, prefix: str, per_shard: int
) -> list[tuple[Path, list[str]]]:
    """Write `samples` (in this order) into shards of `per_shard`. Returns (shard, keys) per
    shard."""
    import webdataset as wds

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    paths = shard_paths(folder, prefix, len(samples), per_shard)
    for path, start in zip(paths, range(0, len(samples), per_shard)):
        chunk = samples[start : start + per_shard]
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            writer = wds.TarWriter(handle, mtime=FIXED_MTIME, user="talkingub", group="talkingub")
            for i, sample in enumerate(chunk):
                writer.write(sample.encoded())
                if i == len(chunk) // 2:
                    handle.flush()
                    crash_point("shard.half_written")
            writer.close()
        written.append((path, [s.key for s in chunk]))
    return written


def shard_paths(folder: Path, prefix: str, count: int, per_shard: int) -> list[Path]:
    """The shards `write_shards` writes for `count` samples."""
    return [folder / f"{prefix}-{n:05d}.tar" for n in range(-(-count // per_shard))]


# What SHA256SUMS lists: every dataset file a build writes (all byte-reproducible), never
# fetch.parquet, fetch/, raw/ or work/ (downloads and caches, remade or reused by the next run).
SUMMED_FILES = (
    "videos.parquet",
    "clips.parquet",
    "frames.parquet",
    "splits.parquet",
    "build.json",
    "stats.json",
    "funnel.md",
    "funnel.png",
    "DATASET_CARD.md",
)
# folder -> (name suffix, whole tree or only the folder itself)
SUMMED_FOLDERS: dict[str, tuple[str, bool]] = {
    "contact_sheets": (".png", False),
    "export": ("", True),
    "report": ("", True),  # index.html, histograms, gallery/ (talkingub.curate.html_report)
    "shards": (".tar", False),
}


def output_files(out_dir: Path) -> list[str]:
    """The build's output files present in `out_dir`, as sorted relative POSIX paths.

    Only names are listed (nothing is opened or followed): symlinks and other non-regular
    entries are included, so `verify` can report them; a symlinked folder is one entry.
    Unfinished temporary files (atomic writes) are not outputs.
    """
    names = [name for name in SUMMED_FILES if os.path.lexists(out_dir / name)]
    for folder, (suffix, recursive) in SUMMED_FOLDERS.items():
        root = out_dir / folder
        if root.is_symlink():
            names.append(folder)
            continue
        for current, dirs, files in os.walk(root):  # never enters symlinked folders
            base = Path(current)
            linked = [d for d in dirs if (base / d).is_symlink()]
            for name in (*files, *linked):
                if name.endswith(suffix) and not name.startswith(TMP_MARK):
                    names.append((base / name).relative_to(out_dir).as_posix())
            if not recursive:
                dirs.clear()
    return sorted(names)


def write_sha256sums(out_dir: Path, owned: Callable[[str], bool] | None = None) -> Path:
    """`OUT/SHA256SUMS` (`sha256sum -c` format) over every output file the build wrote
    (`owned`, by relative path: the ledger; None: every output file); written last."""
    names = [
        name
        for name in output_files(out_dir)
        if (out_dir / name).is_file()
        and not (out_dir / name).is_symlink()
        and (owned is None or owned(name))
    ]
    lines = [f"{sha256_file(out_dir / name)}  {name}" for name in names]
    return atomic_write_text(out_dir / "SHA256SUMS", "\n".join(lines) + ("\n" if lines else ""))


def remove_stale_shards(folder: Path, keep: set[Path], ledger: Ledger) -> list[Path]:
    """Delete the shards an earlier run wrote in `folder` that this one did not (only the
    ledger's: another `.tar` there is not the build's and stays)."""
    name = ledger.relative(folder)
    stale = [e for e in ledger.under(name) if e.endswith(".tar") and ledger.root / e not in keep]
    return ledger.remove_files(stale)
