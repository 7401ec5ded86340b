"""`talkingub bench train|eval|table|run`: every method of a protocol, every seed, one layout.

    OUT/eval_lists.json                      fixed evaluation lists (made once, reused)
    OUT/<method>/seed-<s>/final.pt           trained weights (+ checkpoints/last.pt, logs)
    OUT/<method>/seed-<s>/eval/              videos/, per_video.parquet, summary.json
    OUT/references/<name>/eval/              reference rows (copy-source, copy-driving)
    OUT/tables/leaderboard.{md,tex,csv}      ours, the references, the paper's numbers
    OUT/tables/bars.png, OUT/tables/grids/   figures

Under torchrun every process runs the same command; files are written by rank 0.

References (`talkingub.bench.references`) are scored on the same lists by the same code, for
the protocol's `evaluation.references` (default: copy-source and copy-driving) and for any
reference named among its methods; they train nothing, and an evaluation whose lists and
settings are unchanged is reused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from talkingub.bench import distributed as D
from talkingub.bench.data import BuildIndex, ClipStore
from talkingub.bench.evaluate import EvalJob, EvalResult, evaluate
from talkingub.bench.leaderboard import Tables, write_tables
from talkingub.bench.lists import EvalLists, load_or_make_lists
from talkingub.bench.pretrained import require_weights
from talkingub.bench.protocol import DEFAULT_METHODS, Protocol, load_protocol, with_schedule
from talkingub.bench.references import split_methods
from talkingub.bench.train import (
    TrainJob,
    TrainResult,
    check_resume_flags,
    refuse_silent_restart,
    train,
)
from talkingub.errors import ConfigError

# The protocol `talkingub bench` and `run_tiny_bench` run unless told otherwise.
DEFAULT_PROTOCOL = "tiny-cpu"


@dataclasses.dataclass(frozen=True)
class BenchRun:
    build_dir: Path
    out_dir: Path
    protocol: Protocol
    device: str = "auto"
    resume: bool = False
    progress: bool = True
    restart: bool = False

    def __post_init__(self) -> None:
        """Checks that need no data: the device exists here, --resume/--restart agree."""
        check_resume_flags(self.resume, self.restart)
        D.check_device(self.device)


@dataclasses.dataclass
class BenchResult:
    out_dir: Path
    table_path: Path | None = None
    tables: Tables | None = None
    trained: list[TrainResult] = dataclasses.field(default_factory=list)
    evaluated: list[EvalResult] = dataclasses.field(default_factory=list)
    seconds: float = 0.0


def run_dir(out_dir: Path, method: str, seed: int) -> Path:
    return out_dir / method / f"seed-{seed}"


def reference_dir(out_dir: Path, name: str) -> Path:
    return out_dir / "references" / name


def trained_methods(protocol: Protocol) -> tuple[str, ...]:
    """The protocol's methods that train (every one but the references among them)."""
    return split_methods(protocol.methods)[0]


def references_of(protocol: Protocol) -> tuple[str, ...]:
    """The references a run scores: those named among the methods, then the evaluation's."""
    named = split_methods(protocol.methods)[1]
    return tuple(dict.fromkeys(named + protocol.evaluation.references))


def _is_main() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def train_jobs(run: BenchRun) -> list[TrainJob]:
    return [
        TrainJob(
            method,
            run.build_dir,
            run_dir(run.out_dir, method, seed),
            run.protocol,
            seed,
            run.device,
            run.resume,
            run.progress,
            run.restart,
        )
        for method in trained_methods(run.protocol)
        for seed in run.protocol.seeds
    ]


def train_all(run: BenchRun) -> list[TrainResult]:
    """Train every method of the protocol (references among them train nothing)."""
    jobs = train_jobs(run)
    for job in jobs:  # before the first method trains (each job checks again under its lock)
        refuse_silent_restart(job)
    require_weights(trained_methods(run.protocol), run.protocol)
    return [train(job) for job in jobs]


def eval_lists(run: BenchRun) -> EvalLists:
    cfg = run.protocol.evaluation
    path = run.out_dir / "eval_lists.json"
    index = BuildIndex(run.build_dir)
    params = dict(
        cross_sources=cfg.cross_sources,
        source_splits=cfg.cross_source_splits,
        seed=cfg.list_seed,
        max_frames=cfg.max_frames,
        far=cfg.far_pairs if "far_pairs" in cfg.lists else None,
    )
    if _is_main():
        lists = load_or_make_lists(path, index, **params)
    with D.session(run.device) as info:
        D.barrier(info)
    if not _is_main():
        lists = load_or_make_lists(path, index, **params)
    return lists


def eval_all(run: BenchRun) -> list[EvalResult]:
    lists = eval_lists(run)
    results = []
    for method in trained_methods(run.protocol):
        for seed in run.protocol.seeds:
            folder = run_dir(run.out_dir, method, seed)
            final = folder / "final.pt"
            if not final.is_file():
                raise ConfigError(f"{final} not found: run `talkingub bench train` first")
            job = EvalJob(
                method,
                final,
                run.build_dir,
                folder / "eval",
                lists,
                run.protocol.evaluation,
                seed,
                run.device,
                progress=run.progress,
            )
            results.append(evaluate(job))
    for name in references_of(run.protocol):
        results.append(eval_reference(run, name, lists))
    return results


def eval_reference(run: BenchRun, name: str, lists: EvalLists) -> EvalResult:
    """Score reference `name` on `lists`; an evaluation made from the same lists and
    evaluation settings (summary.json `inputs`) is reused."""
    folder = reference_dir(run.out_dir, name) / "eval"
    evaluation = dataclasses.asdict(run.protocol.evaluation)
    for unused in ("references", "grid_videos", "write_png"):  # do not change the scores
        evaluation.pop(unused)
    text = json.dumps({"lists": lists.to_json(), "evaluation": evaluation}, sort_keys=True)
    inputs = hashlib.sha256(text.encode()).hexdigest()[:16]
    summary = folder / "summary.json"
    if summary.is_file() and (folder / "per_video.parquet").is_file():
        done = json.loads(summary.read_text())
        if done.get("inputs") == inputs:
            ms = done.get("ms_per_frame")
            return EvalResult(
                name,
                0,
                folder / "per_video.parquet",
                summary,
                float("nan") if ms is None else ms,
                int(done["params"]),
            )
    job = EvalJob(
        name,
        None,
        run.build_dir,
        folder,
        lists,
        run.protocol.evaluation,
        0,
        run.device,
        progress=run.progress,
        inputs=inputs,
    )
    return evaluate(job)


def table_all(run: BenchRun) -> Tables | None:
    if not _is_main():
        return None
    from talkingub.bench.figures import bar_chart

    tables = write_tables(
        run.out_dir,
        trained_methods(run.protocol),
        averaging=run.protocol.evaluation.averaging,
        title=f"talkingub bench: {run.protocol.name}",
        references=references_of(run.protocol),
    )
    bar_chart(tables.scores, run.out_dir / "tables" / "bars.png", references=tables.references)
    _grids(run)
    return tables


def _grids(run: BenchRun) -> None:
    from talkingub.bench.figures import grid_video

    lists_path = run.out_dir / "eval_lists.json"
    count = run.protocol.evaluation.grid_videos
    if not count or not lists_path.is_file():
        return
    lists = EvalLists.from_json(lists_path.read_text())
    task, items = ("cross", lists.cross) if lists.cross else ("same", lists.same)
    store = ClipStore(BuildIndex(run.build_dir))
    seed = run.protocol.seeds[0]
    for item in items[:count]:
        # the references need no column: copy-source and copy-driving are the first two
        videos = {
            m: run_dir(run.out_dir, m, seed) / "eval" / "videos" / task / f"{item.item}.mp4"
            for m in trained_methods(run.protocol)
        }
        grid_video(item, task, store, videos, run.out_dir / "tables" / "grids" / f"{item.item}.mp4")


def run_all(run: BenchRun) -> BenchResult:
    start = time.perf_counter()
    result = BenchResult(run.out_dir)
    with D.session(run.device):
        result.trained = train_all(run)
        result.evaluated = eval_all(run)
    result.tables = table_all(run)
    result.table_path = result.tables.markdown if result.tables else None
    result.seconds = time.perf_counter() - start
    return result


def run_tiny_bench(
    build_dir: str | Path,
    out_dir: str | Path,
    methods: tuple[str, ...] = DEFAULT_METHODS,
    steps: int = 4,
    protocol: str | Path | Protocol = DEFAULT_PROTOCOL,
    progress: bool = False,
    restart: bool = True,
    **overrides: Any,
) -> BenchResult:
    """The CPU-scale bench for the demo: `tiny` configs, a few steps, the tiny protocol's
    metrics; returns the result with `table_path` (Markdown leaderboard). A run trained
    before (the demo run again) trains again from step 0, its earlier outputs moved aside
    (`restart`); `restart=False` refuses instead."""
    chosen = with_schedule(load_protocol(protocol, methods=tuple(methods)), steps=steps)
    chosen = dataclasses.replace(chosen, **overrides) if overrides else chosen
    run = BenchRun(
        Path(build_dir), Path(out_dir), chosen, device="cpu", progress=progress, restart=restart
    )
    return run_all(run)
