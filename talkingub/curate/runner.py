"""`talkingub build`: fetch -> decode -> shots -> analyse -> filter -> crop -> split -> shards
-> manifests -> reports. Each step below is one named function.

The run's types (`BuildRun`, `BuildSummary`, `VideoOutcome`) live in `run_types` and are
re-exported here for the callers that name them through the runner.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from talkingub.config import config_hash
from talkingub.curate.analysis.plugins import check_backend
from talkingub.curate.config import BuildConfig
from talkingub.curate.executors import EXECUTORS, TaskLost, emit
from talkingub.curate.output import assemble_outputs
from talkingub.curate.progress import BuildProgress
from talkingub.curate.run_types import BuildRun, BuildSummary, VideoOutcome, VideoResult
from talkingub.curate.types import SourceVideo
from talkingub.curate.unit import analysis_path, process_video
from talkingub.errors import ConfigError, EnvironmentStop, ReasonedError, environment_stop
from talkingub.fetch import run as run_fetch
from talkingub.io.atomic import remove_stale_temps
from talkingub.io.faults import video_fault
from talkingub.io.noise import log_path, route_noise
from talkingub.io.outdir import Ledger, output_folder
from talkingub.manifest.schema import FETCH_SCHEMA_VERSION, check_table
from talkingub.progress import TaskBars

__all__ = [
    "BuildRun",
    "BuildSummary",
    "VideoOutcome",
    "fetch_step",
    "process_step",
    "read_fetch_table",
    "run",
]


def run(build: BuildRun) -> BuildSummary:
    # one run per OUT (lock), only in a folder talkingub owns, never through a symlink; the
    # stale temporaries of a killed run are removed there, before any worker starts
    with output_folder(build.out_dir, force=build.force, wait=build.wait), _noise(build):
        return _run(build)


def _noise(build: BuildRun) -> contextlib.AbstractContextManager[None]:
    """Third-party log noise (MediaPipe, TFLite, protobuf) into `OUT/logs/build.log`
    (`refilter.log`), a ledger entry, unless `verbose` (see talkingub.io.noise)."""
    log = log_path(build.out_dir, "refilter" if build.analysis_must_exist else "build")
    Ledger(build.out_dir).claim([log], adopt=build.force)
    return route_noise(log, verbose=build.verbose, title=log.stem)


def _run(build: BuildRun) -> BuildSummary:
    fetched = fetch_step(build)
    if "process" not in build.stages:
        return BuildSummary(build.out_dir, config_hash(build.recipe), [], {"fetch": fetched})
    outcomes = process_step(build, read_fetch_table(fetched))
    with TaskBars(enabled=build.progress) as bars:
        bars.add("write shards, tables and reports", total=None)
        return assemble_outputs(build, outcomes)


def fetch_step(build: BuildRun) -> Path:
    table = build.out_dir / "fetch.parquet"
    if "fetch" in build.stages:
        if build.fetch is None:
            raise ConfigError("the fetch stage needs a manifest")
        fetch = dataclasses.replace(build.fetch, force=build.fetch.force or build.force)
        return run_fetch(fetch).table
    if not table.is_file():
        raise ConfigError(f"{table} not found: run the fetch stage first (--stages fetch)")
    return table


def read_fetch_table(path: Path) -> list[dict[str, Any]]:
    check_table(path, FETCH_SCHEMA_VERSION)  # one line when another major version wrote it
    frame = pd.read_parquet(path)
    return [
        {k: (None if _missing(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def process_step(build: BuildRun, rows: list[dict[str, Any]]) -> list[VideoOutcome]:
    """Process every fetched row in the executor's workers. An `EnvironmentStop` (the disk
    is full, OUT is read-only, ...) from any worker stops the run: the busy workers are
    killed, their temporary files removed, and the error raised; nothing is recorded."""
    if not build.analysis_must_exist:
        check_backend(build.recipe.analysis)  # a bad plugin/backend fails here, not per video
    outcomes = [VideoOutcome(r) for r in rows]  # every input row, valid or not, in order
    fetched = {o.row["video_id"]: o for o in outcomes if o.row.get("status") == "ok"}
    todo = [_source(build, o.row) for o in fetched.values()]
    executor = EXECUTORS.get(build.executor)(build.workers, **build.executor_options())
    work = build.out_dir / "work"
    jobs = [(video, build.recipe, work, build.analysis_must_exist) for video in todo]
    with BuildProgress(len(jobs), enabled=build.progress) as progress:
        # each worker's stage events move the bars (not with Ray: see executors)
        listener = progress.stage if build.progress else None
        answers = executor.map_unordered(_process_one, jobs, on_event=listener)
        try:
            for job, answer in answers:
                outcome = fetched[job[0].video_id]
                if isinstance(answer, TaskLost):  # the worker died or ran past video_timeout
                    outcome.reason, outcome.detail = answer.reason, answer.detail
                else:
                    outcome.result, outcome.reason, outcome.detail = answer
                progress.video_done(job[0].video_id, outcome.reason)
        except EnvironmentStop:
            _close(answers)  # every worker stopped before their temporaries are removed
            with contextlib.suppress(OSError):  # best effort: a read-only OUT keeps them
                remove_stale_temps(work)
            raise
    return outcomes


def _close(iterator: Iterator[Any]) -> None:
    close = getattr(iterator, "close", None)
    if callable(close):
        close()


def _source(build: BuildRun, row: dict[str, Any]) -> SourceVideo:
    return SourceVideo(
        video_id=row["video_id"],
        path=build.out_dir / row["path"],
        identity=row["identity"],
        split=row.get("split"),
        width=int(row["width"]),
        height=int(row["height"]),
        fps=float(row["fps"]),
        duration=float(row["duration"] or 0.0),
        sha256=row["sha256"],
    )


def _process_one(
    job: tuple[SourceVideo, BuildConfig, Path, bool],
) -> tuple[VideoResult | None, str | None, str]:
    """Runs in a worker: a bad video becomes a reason code, never an exception. The one
    exception is an error of the environment (a full disk, a file size limit, OUT read-only
    or not writable: see `talkingub.errors.environment_stop`, decided with OUT = the parent
    of `work`): it is raised as `EnvironmentStop`, which the executor carries to the parent
    to stop the run."""
    video, config, work, must_exist = job
    try:
        video_fault(video.video_id)  # tests only: TALKINGUB_FAULT_VIDEO kills, hangs, fills
        if must_exist:
            _require_analysis(video, config, work)
        return process_video(video, config, work, emit), None, ""
    except Exception as exc:
        stop = environment_stop(exc, work.parent, fallback=work / video.video_id)
        if stop is not None:
            raise stop from exc
        if isinstance(exc, ReasonedError):
            return None, exc.reason, exc.detail
        return None, "error", f"{type(exc).__name__}: {exc}"


def _require_analysis(video: SourceVideo, config: BuildConfig, work: Path) -> None:
    if not analysis_path(video, config, work).is_file():
        raise ReasonedError("not_analysed", "no cached analysis: run `talkingub build` first")
