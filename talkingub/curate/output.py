"""Dataset-level assembly: duplicates + split, sampling, shards, Parquet manifests, reports.

Everything here is recomputed from the per-video results on every run (cheap), and every
file is written atomically, so a killed run never leaves a finished-looking partial output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from talkingub.config import config_hash
from talkingub.curate import tables
from talkingub.curate.contact import sheet_paths
from talkingub.curate.html_report import report_files, stale_report_files
from talkingub.curate.provenance import provenance
from talkingub.curate.report import write_reports
from talkingub.curate.run_types import BuildRun, BuildSummary, VideoOutcome
from talkingub.curate.shards import (
    SUMMED_FILES,
    remove_stale_shards,
    shard_paths,
    write_sha256sums,
    write_shards,
)
from talkingub.curate.sources import add_source_fields, licence_summary, source_fields
from talkingub.curate.split import VideoKey, assign_splits, find_duplicates
from talkingub.errors import stop_on_environment_error
from talkingub.io.atomic import atomic_path, atomic_write_text
from talkingub.io.faults import crash_point
from talkingub.io.outdir import Ledger
from talkingub.manifest.schema import OUTPUT_SCHEMAS, ShardSample, output_table

# the outputs' version: talkingub.manifest.schema owns it (still importable from here)
from talkingub.manifest.schema import SCHEMA_VERSION as SCHEMA_VERSION


def assemble_outputs(build: BuildRun, outcomes: list[VideoOutcome]) -> BuildSummary:
    """A full disk (or a read-only OUT, ...) here stops the run as `EnvironmentStop`."""
    with stop_on_environment_error(build.out_dir):
        return _assemble(build, outcomes)


def _assemble(build: BuildRun, outcomes: list[VideoOutcome]) -> BuildSummary:
    chash = config_hash(build.recipe)
    splits, duplicates = split_step(build, outcomes)
    videos, clips, frames, samples = collect_rows(build, outcomes, splits, duplicates, chash)
    ledger = Ledger(build.out_dir)  # what earlier runs wrote here: all this run may delete
    shard_step(build, samples, clips, ledger)
    reports = report_paths(build, clips)
    ledger.claim(reports, adopt=build.force)
    ledger.remove_files(stale_report_files(ledger, reports))  # e.g. a thumbnail now unshown
    paths = write_tables(build.out_dir, videos, clips, frames, splits, outcomes)
    meta = {
        "schema": SCHEMA_VERSION,
        "config_hash": chash,
        "config": build.recipe.as_record(),
        "provenance": provenance(build.recipe, outcomes),
    }
    atomic_write_text(build.out_dir / "build.json", json.dumps(meta, indent=2, sort_keys=True))
    funnel = write_reports(build, videos, clips, frames, meta)
    from talkingub.curate.export import export_layouts, owned_output

    export_layouts(build, clips, ledger)
    write_sha256sums(build.out_dir, owned_output(ledger))  # last: it hashes every file above
    return BuildSummary(build.out_dir, chash, funnel, paths, licence_summary(clips))


def split_step(
    build: BuildRun, outcomes: list[VideoOutcome]
) -> tuple[dict[str, str], dict[str, str]]:
    keys = [
        VideoKey(
            o.row["video_id"],
            o.row.get("identity") or o.row["video_id"],
            o.row.get("split"),
            tuple(o.result.analysis.phashes) if o.result else (),
            bool(o.result and any(p.status == "kept" for p in o.result.plans)),
            o.row.get("sha256"),
        )
        for o in outcomes
        if o.row.get("status") == "ok"
    ]
    duplicates = find_duplicates(keys, build.recipe.split.dedup_hamming)
    return assign_splits(keys, duplicates, build.recipe.split), duplicates


def collect_rows(
    build: BuildRun,
    outcomes: list[VideoOutcome],
    splits: dict[str, str],
    duplicates: dict[str, str],
    chash: str,
) -> tuple[list, list, list, list[ShardSample]]:
    videos: list[dict[str, Any]] = []
    clips: list[dict[str, Any]] = []
    frames: list[dict[str, Any]] = []
    samples: list[ShardSample] = []
    for outcome in outcomes:
        vid = outcome.row["video_id"]
        split = splits.get(vid)
        v_clips, v_frames, v_samples = _video_rows(build, outcome, split, chash)
        source = source_fields(outcome.row)
        for record in (*v_clips, *(s.meta for s in v_samples)):
            add_source_fields(record, source)
        clips += v_clips
        frames += v_frames
        samples += v_samples
        videos.append(_video_record(outcome, split, duplicates.get(vid), v_clips, v_frames))
    return videos, clips, frames, samples


def _video_rows(
    build: BuildRun, outcome: VideoOutcome, split: str | None, chash: str
) -> tuple[list, list, list[ShardSample]]:
    result = outcome.result
    if result is None or split is None:
        return [], [], []
    identity = outcome.row.get("identity") or outcome.row["video_id"]
    size = (result.analysis.width, result.analysis.height)
    picks = tables.sampled_indices(result, split, build.recipe)
    clips: list[dict[str, Any]] = []
    frames: list[dict[str, Any]] = []
    samples: list[ShardSample] = []
    for plan in result.plans:
        chosen = picks.get(plan.clip_id, [])
        path = result.clip_paths.get(plan.clip_id)
        clips.append(tables.clip_record(plan, identity, split, len(chosen), size, path))
        sharded = plan.status == "kept" and path is not None
        sampled = chosen if sharded else []
        faces = (
            tables.clipped_track(tables.face_track(plan, build.recipe.crop.face_scale))
            if sharded
            else []
        )
        frames += tables.frame_records(plan, sampled, split, identity, size, faces)
        if sampled and path is not None:
            samples.append(tables.shard_sample(plan, identity, split, chosen, path, faces, chash))
    return clips, frames, samples


def _video_record(
    outcome: VideoOutcome,
    split: str | None,
    duplicate_of: str | None,
    clips: list[dict[str, Any]],
    frames: list[dict[str, Any]],
) -> dict[str, Any]:
    row = outcome.row
    kept = [c for c in clips if c["status"] == "kept" and c["n_sampled"] > 0]
    status, reason, detail = _video_status(outcome, clips, kept)
    result = outcome.result
    record = {
        "video_id": row["video_id"],
        "url": row.get("url"),
        "identity": row.get("identity"),
        "split": split,
        "manifest_split": row.get("split"),
        "duplicate_of": duplicate_of,
        "fetch_status": row.get("status"),
        "fetch_reason": row.get("reason"),
        "status": status,
        "reason": reason,
        "detail": detail,
        "width": row.get("width"),
        "height": row.get("height"),
        "fps": row.get("fps"),
        "duration": row.get("duration"),
        "sha256": row.get("sha256"),
        "frames": result.analysis.frame_count if result else None,
        "n_sequences": len(clips),
        "n_clips_kept": len(kept),
        "n_frames_kept": sum(c["n_sampled"] for c in kept),
        "analysis_backend": f"{result.analysis.backend} {result.analysis.backend_version}"
        if result
        else None,
    }
    # the same provenance keys as clips and shard JSON (source_url repeats url)
    return add_source_fields(record, source_fields(row))


def _video_status(
    outcome: VideoOutcome, clips: list[dict[str, Any]], kept: list[dict[str, Any]]
) -> tuple[str, str | None, str | None]:
    row = outcome.row
    if row.get("status") != "ok":
        return (
            ("skipped" if row.get("status") == "skipped" else "failed"),
            row.get("reason"),
            row.get("error"),
        )
    if outcome.reason:
        return "failed", outcome.reason, outcome.detail
    if kept:
        return "kept", None, None
    reasons = [c["reason"] for c in clips if c["reason"]]
    top = max(set(reasons), key=reasons.count) if reasons else "no_sequence"
    return "rejected", top, ", ".join(sorted(set(reasons))) or None


def report_paths(build: BuildRun, clips: list[dict[str, Any]]) -> list[Path]:
    """The files the build writes at fixed names (tables, reports, SHA256SUMS), the HTML
    report's and the contact sheets."""
    out = build.out_dir
    paths = [out / name for name in (*SUMMED_FILES, "SHA256SUMS")]
    paths += report_files(out, clips, build.recipe)
    if build.recipe.output.contact_sheets:
        paths += sheet_paths(out, clips)
    return paths


def shard_step(
    build: BuildRun, samples: list[ShardSample], clips: list[dict[str, Any]], ledger: Ledger
) -> list[tuple[Path, list[str]]]:
    folder = build.out_dir / "shards"
    per_shard = build.recipe.output.shard_max_clips
    by_split = {
        split: sorted((s for s in samples if s.split == split), key=lambda s: s.key)
        for split in ("train", "test")
    }
    planned = [shard_paths(folder, split, len(rows), per_shard) for split, rows in by_split.items()]
    ledger.claim([path for paths in planned for path in paths], adopt=build.force)
    written = []
    for split, chosen in by_split.items():
        written += write_shards(chosen, folder, split, per_shard)
    remove_stale_shards(folder, {p for p, _ in written}, ledger)
    where = {key: path.name for path, keys in written for key in keys}
    for clip in clips:
        clip["shard"] = where.get(clip["clip_id"])
    return written


def write_tables(
    out: Path,
    videos: list,
    clips: list,
    frames: list,
    splits: dict[str, str],
    outcomes: list[VideoOutcome],
) -> dict[str, Path]:
    identity = {o.row["video_id"]: o.row.get("identity") for o in outcomes}
    split_rows = [
        {"video_id": v, "identity": identity.get(v), "split": s} for v, s in sorted(splits.items())
    ]
    named = {"videos": videos, "clips": clips, "frames": frames, "splits": split_rows}
    return {
        name: _write_parquet(out / f"{name}.parquet", rows, name) for name, rows in named.items()
    }


def _write_parquet(path: Path, rows: list[dict[str, Any]], name: str) -> Path:
    """`rows` as the table `name` of talkingub.manifest.schema (every column, even with no
    rows; its version in the metadata)."""
    table = output_table(rows, OUTPUT_SCHEMAS[name])
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
        crash_point("parquet.written")
    return path
