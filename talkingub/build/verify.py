"""`talkingub verify DIR`: check a finished build against itself.

Integrity: SHA256SUMS lists every output file of the build (the Parquet tables, build.json,
stats.json, funnel.md/png, contact sheets, exports, shards); every listed path stays inside
DIR (no absolute path, no `..`, no symlink out of DIR) and matches its hash; every output
file on disk is listed; the required files exist.
Consistency: the schema version of each Parquet table; clip rows vs shard samples, both ways;
each sample's JSON vs its clip row and its frames.parquet rows (sampled frames, face boxes,
crop box, clip id, split); the funnel counts in stats.json vs the tables and the shards; the
exports and contact sheets the recorded config asks for; kept frame rows point at sharded
clips; no identity or video in both splits.
Nothing outside DIR is opened, and an unreadable file is a problem, never a crash.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import tarfile
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from talkingub.build.output import SCHEMA_VERSION
from talkingub.build.report import funnel_counts
from talkingub.build.shards import output_files
from talkingub.io.atomic import sha256_file

TABLES = ("videos", "clips", "frames", "splits")
REPORTS = ("build.json", "stats.json", "funnel.md", "funnel.png")
DIGEST = re.compile(r"[0-9a-f]{64}")
MAX_LINES = 20  # problems of one kind listed before "... and N more"
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


def verify_build(out: Path) -> list[str]:
    """A list of problems (empty when the build is consistent)."""
    root = out.resolve()
    problems = _check_sums(root)
    for name in REPORTS:
        _, why = _local_file(root, name)
        problems += [why] if why else []
    tables, table_problems = _read_tables(root)
    problems += table_problems
    if tables is None:
        return problems  # the tables cannot be trusted (or read): no row checks
    meta = _read_json(root, "build.json", problems)
    stats = _read_json(root, "stats.json", problems)
    samples: dict[str, Sample] = {}

    def read_shards() -> list[str]:
        found, lines = _read_shards(root, tables["clips"])
        samples.update(found)
        return lines

    problems += _guarded("shards", read_shards)
    checks: list[tuple[str, Callable[[], list[str]]]] = [
        ("build.json", lambda: _check_meta(meta, stats)),
        ("samples", lambda: _check_samples(samples, tables, meta)),
        ("stats.json", lambda: _check_counts(stats, tables, samples)),
        ("export", lambda: _check_exports(root, meta, tables["clips"])),
        ("contact_sheets", lambda: _check_contact_sheets(root, meta, tables["clips"])),
        ("frames.parquet", lambda: _check_frames(tables["frames"], tables["clips"])),
        ("videos.parquet", lambda: _check_disjoint(tables["videos"])),
    ]
    for name, check in checks:
        problems += _guarded(name, check)
    return problems


def _guarded(name: str, check: Callable[[], list[str]]) -> list[str]:
    """A table or JSON file of the wrong shape (a column or key gone, a wrong type) is a
    problem line, not a traceback."""
    try:
        return check()
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        return [f"{name}: cannot be checked ({type(exc).__name__}: {exc})"]


def _inside(root: Path, name: str) -> Path:
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


def _local_file(root: Path, name: str) -> tuple[Path | None, str | None]:
    """`root/name` when it is a regular file inside `root`, else None and why."""
    try:
        path = _inside(root, name)
    except ValueError as exc:
        return None, f"{name}: {exc}; not read"
    if not path.exists():
        return None, f"{name}: missing"
    if not path.is_file():
        return None, f"{name}: not a regular file; not read"
    return path, None


def _check_sums(root: Path) -> list[str]:
    path, problem = _local_file(root, "SHA256SUMS")
    if path is None:
        return [str(problem)]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [f"SHA256SUMS: unreadable ({exc})"]
    outputs = set(output_files(root))
    problems: list[str] = []
    listed: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        digest, _, name = line.partition("  ")
        if not DIGEST.fullmatch(digest) or not name:
            problems.append(f"SHA256SUMS line {number}: not '<sha256>  <path>'")
            continue
        if name in listed:
            problems.append(f"{name!r}: listed twice in SHA256SUMS")
            continue
        listed.add(name)
        problems += _check_listed(root, name, digest, name in outputs)
    for name in sorted(outputs - listed):
        kind = "a symlink" if (root / name).is_symlink() else "an output file"
        problems.append(f"{name}: {kind} not listed in SHA256SUMS")
    return problems


def _check_listed(root: Path, name: str, digest: str, is_output: bool) -> list[str]:
    try:
        path = _inside(root, name)
    except ValueError as exc:
        return [f"{name!r} (SHA256SUMS): {exc}; not read"]
    if not path.exists():
        return [f"{name}: listed in SHA256SUMS but missing"]
    if not path.is_file():
        return [f"{name}: listed in SHA256SUMS but not a regular file"]
    if not is_output:
        return [f"{name}: listed in SHA256SUMS but not a build output"]
    try:
        if sha256_file(path) != digest:
            return [f"{name}: sha256 does not match SHA256SUMS"]
    except OSError as exc:
        return [f"{name}: unreadable ({exc})"]
    return []


def _read_tables(root: Path) -> tuple[dict[str, pd.DataFrame] | None, list[str]]:
    """The four tables, when each is there, of this schema version and readable."""
    problems: list[str] = []
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        file = f"{name}.parquet"
        path, problem = _local_file(root, file)
        if path is None:
            problems.append(str(problem))
            continue
        try:
            meta = pq.read_schema(path).metadata or {}
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
            problems.append(f"{file}: unreadable Parquet ({type(exc).__name__}: {exc})")
            continue
        found = meta.get(b"talkingub.schema", b"").decode(errors="replace")
        if found != f"{SCHEMA_VERSION}/{name}":
            problems.append(f"{file}: schema {found or 'none'!r}, expected {SCHEMA_VERSION}/{name}")
            continue
        try:  # the footer can parse while data pages are cut or corrupt
            tables[name] = pd.read_parquet(path)
        except Exception as exc:
            problems.append(f"{file}: unreadable Parquet ({type(exc).__name__}: {exc})")
    return (None if problems else tables), problems


def _read_json(root: Path, name: str, problems: list[str]) -> dict[str, Any] | None:
    """The JSON object in `root/name`; None (and a problem when it is there but unreadable)
    when it cannot be read."""
    path, _ = _local_file(root, name)  # a missing file is reported already
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"{name}: unreadable JSON ({exc})")
        return None
    if not isinstance(data, dict):
        problems.append(f"{name}: not a JSON object")
        return None
    return data


def _check_meta(meta: dict[str, Any] | None, stats: dict[str, Any] | None) -> list[str]:
    """build.json names this schema, a config and its hash; stats.json the same hash."""
    if meta is None:
        return []
    problems = []
    if meta.get("schema") != SCHEMA_VERSION:
        problems.append(f"build.json: schema {meta.get('schema')!r}, expected {SCHEMA_VERSION}")
    chash = meta.get("config_hash")
    if not isinstance(chash, str):
        problems.append("build.json: no config_hash")
    elif stats is not None and stats.get("config_hash") != chash:
        problems.append(f"stats.json: config_hash {stats.get('config_hash')!r} != build.json's")
    output = _output_config(meta)
    if output is None:
        problems.append("build.json: no config.output section")
    elif not isinstance(output.get("export"), list):
        problems.append("build.json: config.output.export is not a list")
    return problems


def _read_shards(root: Path, clips: pd.DataFrame) -> tuple[dict[str, Sample], list[str]]:
    """Samples (by clip id) of the shards clip rows name; problems of membership."""
    problems: list[str] = []
    samples: dict[str, Sample] = {}
    sharded = clips[clips["shard"].notna()] if "shard" in clips else clips.iloc[0:0]
    for shard, rows in sharded.groupby("shard"):
        name = f"shards/{shard}"
        try:
            path = _inside(root, name)
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
            if {f"{clip_id}.mp4", f"{clip_id}.json"} - members:
                problems.append(f"clip {clip_id}: no complete sample in {name}")
        expected = {f"{c}.{ext}" for c in rows["clip_id"] for ext in ("mp4", "json")}
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
                if info.name.endswith(".json") and info.isfile():  # keys may hold dots
                    handle = tar.extractfile(info)
                    metas[info.name[: -len(".json")]] = _decoded(handle.read() if handle else b"")
    except (tarfile.TarError, OSError, EOFError) as exc:
        return members, metas, str(exc) or type(exc).__name__
    return members, metas, None


def _decoded(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _check_samples(
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


def _check_counts(
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


def _output_config(meta: dict[str, Any] | None) -> dict[str, Any] | None:
    config = (meta or {}).get("config")
    output = config.get("output") if isinstance(config, dict) else None
    return output if isinstance(output, dict) else None


def _kept_clips(clips: pd.DataFrame) -> pd.DataFrame:
    """The clips the export writes (export.export_layouts): kept, encoded, with samples."""
    kept = (clips["status"] == "kept") & clips["file"].notna() & (clips["n_sampled"] > 0)
    return clips[kept]


def _check_exports(root: Path, meta: dict[str, Any] | None, clips: pd.DataFrame) -> list[str]:
    """Each export layout build.json records holds exactly the kept clips (by name; the
    bytes are SHA256SUMS's)."""
    output = _output_config(meta)
    if output is None:
        return []
    on_disk = set(output_files(root))
    kept = _kept_clips(clips)
    problems: list[str] = []
    layouts = output.get("export")
    for layout in layouts if isinstance(layouts, list) else []:
        if layout not in ("fomm", "png"):
            continue  # the build refuses other layouts
        prefix = f"export/{layout}/"
        expected: dict[str, set[str]] = {}  # clip entry -> its files
        for clip in kept.itertuples():
            entry = f"{prefix}{clip.split}/{clip.clip_id}"
            if layout == "fomm":
                expected[f"{entry}.mp4"] = {f"{entry}.mp4"}
            else:
                expected[entry] = {f"{entry}/{i:07d}.png" for i in range(int(clip.n_frames))}
        found = {name for name in on_disk if name.startswith(prefix)}
        lines = []
        for entry, files in sorted(expected.items()):
            gone = files - found
            if gone == files:
                lines.append(f"{entry}: missing (a kept clip)")
            elif gone:
                lines.append(f"{entry}: {len(gone)} of {len(files)} files missing")
        wanted = set().union(*expected.values()) if expected else set()
        lines += [f"{name}: exported, but no kept clip" for name in sorted(found - wanted)]
        problems += _capped(lines)
    return problems


def _check_contact_sheets(
    root: Path, meta: dict[str, Any] | None, clips: pd.DataFrame
) -> list[str]:
    output = _output_config(meta)
    if output is None or not output.get("contact_sheets"):
        return []
    on_disk = set(output_files(root))
    wanted = sorted({f"contact_sheets/{vid}.png" for vid in clips["video_id"]})
    return _capped([f"{name}: missing" for name in wanted if name not in on_disk])


def _check_frames(frames: pd.DataFrame, clips: pd.DataFrame) -> list[str]:
    kept_clips = set(clips.loc[(clips["status"] == "kept") & clips["shard"].notna(), "clip_id"])
    kept = frames[(frames["status"] == "kept") & frames["sampled"].eq(True)]
    orphans = sorted(set(kept["clip_id"]) - kept_clips)
    return [
        f"frames.parquet: kept frames of clip {c}, which is not a sharded kept clip"
        for c in orphans
    ]


def _check_disjoint(videos: pd.DataFrame) -> list[str]:
    kept = videos[videos["split"].notna() & videos["identity"].notna()]
    problems = []
    for column in ("identity", "video_id"):
        splits = kept.groupby(column)["split"].nunique()
        problems += [f"{column} {key!r} is in both splits" for key in splits[splits > 1].index]
    return problems


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    return [*lines[:MAX_LINES], f"... and {len(lines) - MAX_LINES} more like these"]


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
