"""`talkingub verify DIR`: check a finished build against itself.

Checks: every file listed in SHA256SUMS exists and matches; every shard on disk is listed;
every clip row that names a shard has its sample (mp4 + json) in that shard and vice versa;
every kept frame row points at a kept clip; no identity or video in both splits; every
Parquet manifest carries the expected schema version.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from talkingub.build.output import SCHEMA_VERSION
from talkingub.io.atomic import sha256_file

TABLES = ("videos", "clips", "frames", "splits")


def verify_build(out: Path) -> list[str]:
    """A list of problems (empty when the build is consistent)."""
    problems = _check_schemas(out)
    if problems:
        return problems
    problems += _check_sums(out)
    clips = pd.read_parquet(out / "clips.parquet")
    problems += _check_shard_members(out, clips)
    problems += _check_frames(pd.read_parquet(out / "frames.parquet"), clips)
    problems += _check_disjoint(pd.read_parquet(out / "videos.parquet"))
    return problems


def _check_schemas(out: Path) -> list[str]:
    problems = []
    for name in TABLES:
        path = out / f"{name}.parquet"
        if not path.is_file():
            problems.append(f"{path.name}: missing")
            continue
        meta = pq.read_schema(path).metadata or {}
        found = meta.get(b"talkingub.schema", b"").decode()
        if found != f"{SCHEMA_VERSION}/{name}":
            problems.append(
                f"{path.name}: schema {found or 'none'!r}, expected {SCHEMA_VERSION}/{name}"
            )
    return problems


def _check_sums(out: Path) -> list[str]:
    sums = out / "SHA256SUMS"
    if not sums.is_file():
        return ["SHA256SUMS: missing"]
    problems, listed = [], set()
    for line in sums.read_text().splitlines():
        digest, _, name = line.partition("  ")
        listed.add(name)
        path = out / name
        if not path.is_file():
            problems.append(f"{name}: listed in SHA256SUMS but missing")
        elif sha256_file(path) != digest:
            problems.append(f"{name}: sha256 does not match SHA256SUMS")
    on_disk = {p.relative_to(out).as_posix() for p in (out / "shards").glob("*.tar")}
    problems += [f"{name}: shard not listed in SHA256SUMS" for name in sorted(on_disk - listed)]
    return problems


def _check_shard_members(out: Path, clips: pd.DataFrame) -> list[str]:
    problems = []
    sharded = clips[clips["shard"].notna()] if "shard" in clips else clips.iloc[0:0]
    for shard, rows in sharded.groupby("shard"):
        path = out / "shards" / str(shard)
        if not path.is_file():
            problems.append(f"shards/{shard}: missing ({len(rows)} clip rows point at it)")
            continue
        keys = _members(path)
        for clip_id in rows["clip_id"]:
            if {f"{clip_id}.mp4", f"{clip_id}.json"} - keys:
                problems.append(f"clip {clip_id}: no complete sample in shards/{shard}")
        expected = {f"{c}.{ext}" for c in rows["clip_id"] for ext in ("mp4", "json")}
        problems += [f"shards/{shard}: sample {k} has no clip row" for k in sorted(keys - expected)]
    return problems


def _members(path: Path) -> set[str]:
    try:
        with tarfile.open(path) as tar:
            return set(tar.getnames())
    except (tarfile.TarError, OSError) as exc:
        return {f"<unreadable: {exc}>"}


def _check_frames(frames: pd.DataFrame, clips: pd.DataFrame) -> list[str]:
    kept_clips = set(clips.loc[(clips["status"] == "kept") & clips["shard"].notna(), "clip_id"])
    kept = frames[(frames["status"] == "kept") & frames["sampled"]]
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
