"""`talkingub verify`, shard side: every shard sample read (inside OUT only), its JSON held
against its clip row and its `frames.parquet` rows, and the funnel counts of `stats.json`
recomputed from the tables and the shards."""

from __future__ import annotations

import dataclasses
import json
import math
import tarfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from talkingub.curate.report import funnel_counts
from talkingub.manifest.schema import ShardSample

# columns funnel_counts reads, per table
FUNNEL_COLUMNS = {
    "videos": ("status", "fetch_status", "frames", "split"),
    "clips": ("status", "n_sampled"),
    "frames": ("sampled", "analysed", "status", "split"),
}


@dataclasses.dataclass
class Sample:
    """One shard sample: the shard it is in and its decoded JSON (None when unreadable)."""

    shard: str
    meta: Any


def inside(root: Path, name: str) -> Path:
    """`root/name` resolved; raises ValueError when `name` is not a plain relative path or
    resolves (through symlinks) outside `root`."""
    parts = name.split("/")
    if (
        not name
        or "\\" in name
        or "\0" in name
        or PurePosixPath(name).is_absolute()
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise ValueError("not a plain relative path inside the build folder")
    try:
        resolved = (root / name).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise ValueError(f"cannot be resolved ({exc})") from exc
    if not resolved.is_relative_to(root):
        raise ValueError("resolves outside the build folder")
    return resolved


def read_shards(root: Path, clips: pd.DataFrame) -> tuple[dict[str, Sample], list[str]]:
    """Samples (by clip id) of the shards clip rows name; problems of membership."""
    problems: list[str] = []
    samples: dict[str, Sample] = {}
    sharded = clips[clips["shard"].notna()] if "shard" in clips else clips.iloc[0:0]
    for shard, rows in sharded.groupby("shard"):
        name = f"shards/{shard}"
        try:
            path = inside(root, name)
        except ValueError as exc:
            problems.append(f"clips.parquet: shard {str(shard)!r}: {exc}")
            continue
        if "/" in str(shard) or not path.is_file():
            problems.append(f"{name}: missing ({len(rows)} clip rows point at it)")
            continue
        members, metas, error = _members(path)
        if error:
            problems.append(f"{name}: unreadable ({error})")
            continue
        for clip_id in rows["clip_id"]:
            if ShardSample.member_names(str(clip_id)) - members:
                problems.append(f"clip {clip_id}: no complete sample in {name}")
        expected = {m for c in rows["clip_id"] for m in ShardSample.member_names(str(c))}
        extra = [f"{name}: sample {k} has no clip row" for k in sorted(members - expected)]
        problems += extra
        for key, meta in metas.items():
            if key in samples:
                problems.append(f"{name}: sample {key} is also in shards/{samples[key].shard}")
            samples[key] = Sample(str(shard), meta)
    return samples, problems


def _members(path: Path) -> tuple[set[str], dict[str, Any], str | None]:
    """Member names and decoded JSON payloads (by key; None when not valid JSON)."""
    members: set[str] = set()
    metas: dict[str, Any] = {}
    try:
        with tarfile.open(path) as tar:
            for info in tar.getmembers():
                members.add(info.name)
                parsed = ShardSample.parse_member(info.name)  # keys may hold dots
                if parsed is not None and parsed[1] == ShardSample.JSON and info.isfile():
                    handle = tar.extractfile(info)
                    metas[parsed[0]] = _decoded(handle.read() if handle else b"")
    except (tarfile.TarError, OSError, EOFError) as exc:
        return members, metas, str(exc) or type(exc).__name__
    return members, metas, None


def _decoded(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def check_samples(
    samples: dict[str, Sample], tables: dict[str, pd.DataFrame], meta: dict[str, Any] | None
) -> list[str]:
    """Each sample's JSON against its clip row and the frames.parquet rows it was made from
    (the rows with sampled == True of that clip)."""
    clips, frames = tables["clips"], tables["frames"]
    problems: list[str] = []
    duplicated = sorted(set(clips.loc[clips["clip_id"].duplicated(), "clip_id"]))
    problems += [f"clips.parquet: clip {c} has more than one row" for c in duplicated]
    rows_of = {str(c): rows for c, rows in clips.groupby("clip_id")}
    sampled = frames[frames["sampled"].eq(True)]
    frames_of = {str(c): rows.sort_values("clip_frame") for c, rows in sampled.groupby("clip_id")}
    for clip_id in sorted(set(frames_of) - set(samples)):
        problems.append(
            f"frames.parquet: {len(frames_of[clip_id])} sampled rows of clip {clip_id}, "
            "which has no shard sample"
        )
    config_hash = (meta or {}).get("config_hash")
    for clip_id, sample in sorted(samples.items()):
        where = f"shards/{sample.shard}: sample {clip_id}"
        if not isinstance(sample.meta, dict):
            problems.append(f"{where}: json is not a readable JSON object")
            continue
        found = _sample_problems(
            clip_id, sample, rows_of.get(clip_id), frames_of.get(clip_id), config_hash
        )
        problems += [f"{where}: {p}" for p in found]
    return problems


def _sample_problems(
    clip_id: str,
    sample: Sample,
    clip_rows: pd.DataFrame | None,
    frame_rows: pd.DataFrame | None,
    config_hash: str | None,
) -> list[str]:
    data: dict[str, Any] = sample.meta
    problems = []
    if data.get("clip_id") != clip_id:
        problems.append(f"json clip_id {data.get('clip_id')!r} is not the sample key")
    split = data.get("split")
    if not sample.shard.startswith(f"{split}-"):
        problems.append(f"json split {split!r} is not the shard's")
    if config_hash is not None and data.get("config_hash") != config_hash:
        problems.append(f"json config_hash {data.get('config_hash')!r} is not build.json's")
    if clip_rows is None or len(clip_rows) != 1:
        return [*problems, "no single clips.parquet row"]
    clip = clip_rows.iloc[0]
    for key, column in (
        ("video_id", "video_id"),
        ("identity", "identity"),
        ("split", "split"),
        ("n_frames", "n_frames"),
        ("source_start", "start"),
    ):
        if not _same(data.get(key), _plain(clip[column])):
            problems.append(f"json {key} {data.get(key)!r} != clips.parquet {column}")
    crop = [_plain(clip[c]) for c in ("crop_x0", "crop_y0", "crop_side")]
    if not _same(data.get("crop_box"), _rounded(crop)):
        problems.append("json crop_box != clips.parquet crop")
    if frame_rows is None:
        return [*problems, "no sampled rows in frames.parquet"]
    return problems + _frame_problems(data, clip, frame_rows)


def _frame_problems(data: dict[str, Any], clip: pd.Series, rows: pd.DataFrame) -> list[str]:
    problems = []
    picks = data.get("sampled_frames")
    boxes = data.get("face_boxes")
    n_frames = data.get("n_frames")
    if not isinstance(picks, list) or not all(isinstance(i, int) for i in picks):
        return ["json sampled_frames is not a list of frame numbers"]
    if not isinstance(boxes, list) or len(boxes) != n_frames:
        return [f"json face_boxes is not one box per clip frame ({n_frames})"]
    if not all(0 <= i < len(boxes) for i in picks):
        return ["json sampled_frames outside the clip"]
    clip_frames = [_plain(v) for v in rows["clip_frame"]]
    if not _same(picks, clip_frames):
        problems.append(
            f"json sampled_frames ({len(picks)} frames) != clip_frame of its "
            f"{len(clip_frames)} sampled frames.parquet rows"
        )
    elif not _same([boxes[i] for i in picks], [_plain(v) for v in rows["face_box_crop"]]):
        problems.append("json face_boxes != face_box_crop of the sampled frames.parquet rows")
    if not _same(_plain(clip["n_sampled"]), len(picks)):
        problems.append(f"clips.parquet n_sampled {clip['n_sampled']} != {len(picks)} sampled")
    if not all(_same(_rounded(_plain(v)), data.get("crop_box")) for v in rows["crop_box"]):
        problems.append("json crop_box != crop_box of the sampled frames.parquet rows")
    splits = set(rows["split"])
    if splits != {data.get("split")}:
        problems.append(f"json split {data.get('split')!r} != frames.parquet split {splits}")
    return problems


def check_counts(
    stats: dict[str, Any] | None, tables: dict[str, pd.DataFrame], samples: dict[str, Sample]
) -> list[str]:
    """The funnel in stats.json against the one the tables give (report.funnel_counts, the
    function the build used) and the frames and clips in the shards."""
    if stats is None:
        return []
    recorded = stats.get("funnel")
    if not isinstance(recorded, dict):
        return ["stats.json: no funnel"]
    records = {name: _records(tables[name], cols) for name, cols in FUNNEL_COLUMNS.items()}
    counted = funnel_counts(records["videos"], records["clips"], records["frames"])
    problems = [
        f"stats.json: funnel {name!r} is {recorded.get(name)!r}, the tables give {count}"
        for name, count in counted
        if recorded.get(name) != count
    ]
    metas = [s.meta for s in samples.values() if isinstance(s.meta, dict)]
    in_shards = {
        "clips kept": len(samples),
        "train frames": sum(_n_picks(m) for m in metas if m.get("split") == "train"),
        "test frames": sum(_n_picks(m) for m in metas if m.get("split") == "test"),
    }
    problems += [
        f"stats.json: funnel {name!r} is {recorded.get(name)!r}, the shards hold {count}"
        for name, count in in_shards.items()
        if recorded.get(name) != count
    ]
    return problems


def _n_picks(meta: dict[str, Any]) -> int:
    picks = meta.get("sampled_frames")
    return len(picks) if isinstance(picks, list) else 0


def _records(frame: pd.DataFrame, columns: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {c: _plain(v) for c, v in row.items()} for row in frame[list(columns)].to_dict("records")
    ]


def _plain(value: Any) -> Any:
    """A Parquet cell as plain Python: arrays as lists, NumPy scalars as numbers, missing as
    None."""
    if isinstance(value, np.ndarray | list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _rounded(box: Any) -> Any:
    """A crop box as the shard JSON writes it (crop.Crop.as_list: 2 decimals)."""
    if not isinstance(box, list) or any(v is None for v in box):
        return None
    return [round(float(v), 2) for v in box]


def _same(a: Any, b: Any) -> bool:
    """Equal, numbers compared as numbers (a JSON 3 and a Parquet 3.0 are the same frame)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers):
        if isinstance(a, bool) or isinstance(b, bool):
            return a is b
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    return bool(a == b) if type(a) is type(b) else False
