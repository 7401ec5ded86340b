"""WebDataset tar shards (one sample = one clip: `mp4` + `json`) and SHA256SUMS.

Tar members get a fixed mtime/owner, so the same clips give byte-identical shards. Each
shard is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from talkingub.io.atomic import atomic_path, atomic_write_text, sha256_file
from talkingub.io.faults import crash_point

FIXED_MTIME = 0.0


def write_shards(
    samples: list[dict[str, Any]], folder: Path, prefix: str, per_shard: int
) -> list[tuple[Path, list[str]]]:
    """samples: {"__key__", "mp4": Path, "json": dict}. Returns (shard, keys) per shard."""
    import webdataset as wds

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number, start in enumerate(range(0, len(samples), per_shard)):
        chunk = samples[start : start + per_shard]
        path = folder / f"{prefix}-{number:05d}.tar"
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            writer = wds.TarWriter(handle, mtime=FIXED_MTIME, user="talkingub", group="talkingub")
            for i, sample in enumerate(chunk):
                writer.write(_encoded(sample))
                if i == len(chunk) // 2:
                    handle.flush()
                    crash_point("shard.half_written")
            writer.close()
        written.append((path, [s["__key__"] for s in chunk]))
    return written


def _encoded(sample: dict[str, Any]) -> dict[str, Any]:
    return {
        "__key__": sample["__key__"],
        "mp4": Path(sample["mp4"]).read_bytes(),
        "json": json.dumps(sample["json"], sort_keys=True).encode(),
    }


def write_sha256sums(out_dir: Path, files: list[Path]) -> Path:
    lines = [f"{sha256_file(p)}  {p.relative_to(out_dir).as_posix()}" for p in sorted(files)]
    return atomic_write_text(out_dir / "SHA256SUMS", "\n".join(lines) + ("\n" if lines else ""))


def remove_stale_shards(folder: Path, keep: set[Path]) -> None:
    if folder.is_dir():
        for path in folder.glob("*.tar"):
            if path not in keep:
                path.unlink()
