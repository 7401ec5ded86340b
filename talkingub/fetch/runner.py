"""The fetch stage: every manifest row ends as exactly one row of `fetch.parquet`.

Steps: read + validate the manifest -> fetch rows in parallel (local link/copy or yt-dlp),
probe each file with PyAV, retry transient failures with backoff -> write one JSON part per
row -> assemble `fetch.parquet`. A re-run reuses ok parts whose file still matches its hash.
"""

from __future__ import annotations

import collections
import dataclasses
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from talkingub.errors import environment_stop, stop_on_environment_error
from talkingub.fetch import local, ytdlp
from talkingub.fetch.config import FetchConfig
from talkingub.fetch.progress import FetchProgress
from talkingub.fetch.ratelimit import SharedRateLimiter
from talkingub.fetch.reasons import Failure, classify
from talkingub.fetch.results import (
    PartStore,
    base_record,
    provenance_record,
    request_key,
    utc_now,
    write_table,
)
from talkingub.io.atomic import sha256_file
from talkingub.io.faults import crash_point
from talkingub.io.outdir import Ledger, output_folder
from talkingub.manifest.reader import Problem, read_source_manifest
from talkingub.manifest.schema import SourceRow
from talkingub.video.probe import probe_video


@dataclasses.dataclass(frozen=True)
class FetchSummary:
    table: Path
    total: int
    by_status: dict[str, int]
    by_reason: dict[str, int]
    reused: int  # ok rows taken from an earlier run without re-downloading
    # a dry run: `table` is OUT/fetch-dryrun.parquet, which no build stage reads
    dry_run: bool = False


@dataclasses.dataclass
class _Context:
    config: FetchConfig
    raw_dir: Path
    parts: PartStore
    limiter: SharedRateLimiter
    progress: FetchProgress
    reused: int = 0


def run(config: FetchConfig) -> FetchSummary:
    """A full disk, a file size limit or an OUT that cannot be written stops the run as
    `EnvironmentStop` (no row is recorded as failed for it); see `_attempt`."""
    rows, problems = read_source_manifest(config.manifest, strict=config.on_invalid_row == "error")
    with (
        output_folder(config.out_dir, config.force, config.wait),
        stop_on_environment_error(config.out_dir),
    ):
        context = _prepare(config)
        with context.progress:
            results = _fetch_all(rows, context)
        records = _in_manifest_order(results + [_invalid_record(p) for p in problems])
        name = "fetch-dryrun.parquet" if config.dry_run else "fetch.parquet"
        Ledger(config.out_dir).claim([config.out_dir / name], adopt=config.force)
        table = write_table(records, config.out_dir / name)
    return _summarise(table, records, context.reused, config.dry_run)


def _prepare(config: FetchConfig) -> _Context:
    raw_dir = config.out_dir / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)  # its stale temporaries: see output_folder
    limiter = SharedRateLimiter(config.out_dir / "fetch" / ".ratelimit", config.rate_limit)
    return _Context(
        config, raw_dir, PartStore(config.out_dir), limiter, FetchProgress(enabled=config.progress)
    )


def _fetch_all(rows: list[SourceRow], context: _Context) -> list[dict[str, Any]]:
    context.progress.start(len(rows))
    work: Callable[[SourceRow], dict[str, Any]] = (
        (lambda r: _dry_run_row(r, context))
        if context.config.dry_run
        else (lambda r: _fetch_row(r, context))
    )
    pool = ThreadPoolExecutor(max_workers=context.config.workers)
    try:
        return list(pool.map(work, rows))
    finally:  # an EnvironmentStop from one row: rows not started yet are not started
        pool.shutdown(wait=True, cancel_futures=True)


def _fetch_row(row: SourceRow, context: _Context) -> dict[str, Any]:
    key = request_key(row, context.config.max_height)
    cached = context.parts.cached_ok(row, key)
    if cached is not None:
        context.reused += 1
        context.progress.row_done(row.video_id, "ok (cached)")
        return {**cached, **provenance_record(row), "_row": row.row}
    record = _attempt_with_retries(row, context)
    context.parts.save(record, key)
    context.progress.row_done(row.video_id, f"{record['status']} {record['reason']}")
    return {**record, "_row": row.row}


def _attempt_with_retries(row: SourceRow, context: _Context) -> dict[str, Any]:
    started = utc_now()
    attempts = 0
    while True:
        attempts += 1
        outcome = _attempt(row, context)
        if isinstance(outcome, dict) or not outcome.transient:
            break
        if attempts > context.config.retries:
            break
        time.sleep(_backoff(attempts, context.config))
    record = outcome if isinstance(outcome, dict) else _failed(outcome)
    return {
        **base_record(row),
        **record,
        "attempts": attempts,
        "started_at": started,
        "finished_at": utc_now(),
        "ytdlp_version": ytdlp.ytdlp_version(),
    }


def _backoff(attempt: int, config: FetchConfig) -> float:
    delay = min(config.backoff_max, config.backoff_base * 2 ** (attempt - 1))
    return delay * random.uniform(0.5, 1.0)  # full jitter keeps workers from retrying in step


def _attempt(row: SourceRow, context: _Context) -> dict[str, Any] | Failure:
    target: Path | None = None
    try:
        target, backend, fmt = _download(row, context)
        crash_point("fetch.downloaded")
        info = probe_video(target)
    except Exception as exc:  # every failure becomes a reason code, but the environment's
        if target is not None:
            target.unlink(missing_ok=True)  # never leave an unusable file under raw/
        # placing the file writes under OUT (a permission error there is OUT's); probing it
        # only reads it (a linked source without read permission is the row's own failure)
        out = context.config.out_dir if target is None else None
        stop = environment_stop(exc, out, fallback=context.raw_dir)
        if stop is not None:
            raise stop from exc
        return classify(exc)
    return _ok(target, backend, fmt, info, context)


def _download(row: SourceRow, context: _Context) -> tuple[Path, str, str | None]:
    if local.is_local(row.url):
        source = local.local_source(row.url)
        target = context.raw_dir / f"{row.video_id}{source.suffix.lower() or '.mp4'}"
        local.place_local(source, target, context.config.local_mode)
        return target, "local", None
    context.limiter.wait()
    hook = context.progress.bytes_hook(row.video_id)
    path, info = ytdlp.download(row, context.config, context.raw_dir, hook)
    return path, "ytdlp", info.get("format_id")


def _ok(
    target: Path, backend: str, fmt: str | None, info: Any, context: _Context
) -> dict[str, Any]:
    return {
        "status": "ok",
        "reason": "fetched",
        "error": None,
        "backend": backend,
        "path": str(target.relative_to(context.config.out_dir)),
        "format_id": fmt,
        "container": info.container,
        "vcodec": info.vcodec,
        "width": info.width,
        "height": info.height,
        "fps": info.fps,
        "duration": info.duration,
        "frames": info.frames,
        "rotation": info.rotation,
        "has_audio": info.has_audio,
        "file_size": target.stat().st_size,
        "sha256": sha256_file(target),
    }


def _failed(failure: Failure) -> dict[str, Any]:
    return {"status": "failed", "reason": failure.reason, "error": failure.error}


def _dry_run_row(row: SourceRow, context: _Context) -> dict[str, Any]:
    record = {**base_record(row), "started_at": utc_now(), "_row": row.row}
    try:
        facts = _availability(row, context.config)
    except Exception as exc:
        record.update(_failed(classify(exc)))
    else:
        record.update({"status": "ok", "reason": "dry_run", **facts})
    record["finished_at"] = utc_now()
    context.progress.row_done(row.video_id, f"{record['status']} {record['reason']}")
    return record


def _availability(row: SourceRow, config: FetchConfig) -> dict[str, Any]:
    if local.is_local(row.url):
        info = probe_video(local.local_source(row.url))
        return {
            "backend": "local",
            **{k: v for k, v in info.as_record().items() if k != "variable_frame_rate"},
        }
    meta = ytdlp.probe_remote(row, config)
    return {
        "backend": "ytdlp",
        "format_id": meta.get("format_id"),
        "vcodec": meta.get("vcodec"),
        "width": meta.get("width"),
        "height": meta.get("height"),
        "fps": meta.get("fps"),
        "duration": meta.get("duration"),
    }


def _invalid_record(problem: Problem) -> dict[str, Any]:
    return {
        "video_id": problem.video_id,
        "url": problem.url,
        "status": "skipped",
        "reason": "invalid_row",
        "error": f"row {problem.row}, column '{problem.column}': {problem.message}",
        "_row": problem.row,
    }


def _in_manifest_order(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ordered = sorted(records, key=lambda r: r["_row"])
    return [{k: v for k, v in r.items() if k != "_row"} for r in ordered]


def _summarise(
    table: Path, records: list[dict[str, Any]], reused: int, dry_run: bool = False
) -> FetchSummary:
    status = collections.Counter(str(r.get("status")) for r in records)
    reasons = collections.Counter(str(r.get("reason")) for r in records if r.get("status") != "ok")
    return FetchSummary(table, len(records), dict(status), dict(reasons), reused, dry_run)
