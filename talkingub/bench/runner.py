"""`talkingub bench train|eval|table|run`: every method of a protocol, every seed, one layout.

    OUT/eval_lists.json                      fixed evaluation lists (made once, reused)
    OUT/<method>/seed-<s>/final.pt           trained weights (+ checkpoints/last.pt, logs)
    OUT/<method>/seed-<s>/eval/              videos/, per_video.parquet, summary.json
    OUT/references/<name>/eval/              reference rows (copy-source, copy-driving)
    OUT/pretrained/<name>/eval/              published weights, zero-shot (`--pretrained`)
    OUT/tables/leaderboard.{md,tex,csv}      ours, the references, the paper's numbers
    OUT/tables/bars.png, OUT/tables/grids/   figures
    OUT/report/leaderboard.html              one static page: the tables and the figures

Under torchrun every process runs the same command; files are written by rank 0.

References (`talkingub.bench.references`) are scored on the same lists by the same code, for
the protocol's `evaluation.references` (default: copy-source and copy-driving) and for any
reference named among its methods; they train nothing, and an evaluation whose lists,
settings and build are unchanged is reused.

Every run records the build it used (`talkingub.bench.build_ref`): training in `run.json` and
its checkpoints, evaluation in `summary.json`. A checkpoint trained on another build is not
evaluated, and evaluations of different builds are not tabled together, unless
`allow_mixed_builds` (`--allow-mixed-builds`); the tables then say so.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from talkingub.bench import distributed as D
from talkingub.bench import person_specific as PS
from talkingub.bench.build_ref import BuildRef
from talkingub.bench.data import BuildIndex, ClipStore
from talkingub.bench.eval_jobs import run_eval_job
from talkingub.bench.evaluate import EvalResult, evaluate
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
from talkingub.bench.zero_shot import TRACK, Pretrained, pretrained_dir
from talkingub.errors import ConfigError
from talkingub.io.noise import log_path, route_noise
from talkingub.progress import TaskBars

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
    allow_mixed_builds: bool = False  # --allow-mixed-builds (talkingub.bench.build_ref)
    # False: third-party log noise (detector warnings) goes only to OUT/logs/<command>.log;
    # True (`--verbose`): shown on the terminal (see talkingub.io.noise)
    verbose: bool = False
    # --pretrained NAME=FILE: published weights evaluated zero-shot (talkingub.bench.zero_shot)
    pretrained: tuple[Pretrained, ...] = ()
    evaluate_trained: bool = True  # False: `bench eval --pretrained` without --methods

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


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _logged(command: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Run the decorated `f(run, ...)` with third-party log noise routed to
    `run.out_dir/logs/<command>.log` (the outermost such call's log: `run` nests the others)."""

    def wrap(f: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(f)
        def routed(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            run = args[0] if args else kwargs["run"]
            assert isinstance(run, BenchRun)
            log = log_path(run.out_dir, command)
            with route_noise(log, run.verbose, title=f"bench {command}"):
                return f(*args, **kwargs)

        return routed

    return wrap


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
            allow_mixed_builds=run.allow_mixed_builds,
        )
        for method in trained_methods(run.protocol)
        if not PS.is_person_specific(method)  # one run per person: PS.methods_of
        for seed in run.protocol.seeds
    ]


def train_all(run: BenchRun) -> list[TrainResult]:
    """Train every method of the protocol (references among them train nothing)."""
    jobs = train_jobs(run)
    _refuse_early(run, jobs)
    if not jobs and not PS.methods_of(run.protocol):
        return []  # nothing to train: OUT stays untouched
    return _train_jobs(run, jobs)


def _refuse_early(run: BenchRun, jobs: list[TrainJob]) -> None:
    """What refuses a training run, checked before anything is written (not even its log)."""
    for job in jobs:  # before the first method trains (each job checks again under its lock)
        refuse_silent_restart(job)
    PS.refuse_early(run, PS.methods_of(run.protocol))
    require_weights(trained_methods(run.protocol), run.protocol)


@_logged("train")
def _train_jobs(run: BenchRun, jobs: list[TrainJob]) -> list[TrainResult]:
    results = [train(job) for job in jobs]
    persons = PS.methods_of(run.protocol)  # one model per person the lists need
    if persons:
        lists = eval_lists(run)
        results += [r for method in persons for r in PS.train_method(run, method, lists)]
    return results


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


@_logged("eval")
def eval_all(run: BenchRun) -> list[EvalResult]:
    lists = eval_lists(run)
    build = BuildRef.from_build(run.build_dir)  # recorded with every evaluation
    results = []
    for method in trained_methods(run.protocol) if run.evaluate_trained else ():
        for seed in run.protocol.seeds:
            if PS.is_person_specific(method):  # its model per person
                results.append(PS.eval_method(run, method, seed, lists, build))
                continue
            folder = run_dir(run.out_dir, method, seed)
            final = folder / "final.pt"
            if not final.is_file():
                raise ConfigError(f"{final} not found: run `talkingub bench train` first")
            job = run_eval_job(run, method, final, folder / "eval", lists, build, seed)
            results.append(evaluate(job))
    for name in references_of(run.protocol):
        results.append(eval_reference(run, name, lists, build))
    return results + [eval_pretrained(run, p, lists, build) for p in run.pretrained]


def eval_pretrained(
    run: BenchRun, weights: Pretrained, lists: EvalLists, build: BuildRef
) -> EvalResult:
    """Published weights on `lists`, without training: `OUT/pretrained/<name>/eval`."""
    folder = pretrained_dir(run.out_dir, weights.name) / "eval"
    job = run_eval_job(run, weights.name, weights.checkpoint, folder, lists, build, track=TRACK)
    return evaluate(job)


def eval_reference(
    run: BenchRun, name: str, lists: EvalLists, build: BuildRef | None = None
) -> EvalResult:
    """Score reference `name` on `lists`; an evaluation made from the same lists, evaluation
    settings and build (summary.json `inputs`; `build` None: `run.build_dir`'s) is reused."""
    build = build or BuildRef.from_build(run.build_dir)
    folder = reference_dir(run.out_dir, name) / "eval"
    evaluation = dataclasses.asdict(run.protocol.evaluation)
    for unused in ("references", "grid_videos", "write_png"):  # do not change the scores
        evaluation.pop(unused)
    used = {"lists": lists.to_json(), "evaluation": evaluation, "build": list(build.key)}
    text = json.dumps(used, sort_keys=True)
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
    return evaluate(run_eval_job(run, name, None, folder, lists, build, inputs=inputs))


@_logged("table")
def table_all(run: BenchRun) -> Tables | None:
    if not _is_main():
        return None
    with TaskBars(enabled=run.progress) as bars:
        return _table_all(run, functools.partial(bars.update, bars.add("bench table", None)))


def _table_all(run: BenchRun, step: Callable[..., None]) -> Tables:
    """The tables and figures; `step(description=...)` names each step on its bar."""
    from talkingub.bench.figures import bar_chart

    step(description="bench table: leaderboard")
    tables = write_tables(
        run.out_dir,
        trained_methods(run.protocol),
        averaging=run.protocol.evaluation.averaging,
        title=f"talkingub bench: {run.protocol.name}",
        references=references_of(run.protocol),
        allow_mixed_builds=run.allow_mixed_builds,
    )
    step(description="bench table: bar chart")
    bar_chart(tables.scores, run.out_dir / "tables" / "bars.png", references=tables.references)
    if _on_this_build(tables, run.build_dir):
        _grids(run, step)
    else:  # the grids decode their source and driving columns from BUILD_DIR
        step(description="bench table: no grid videos (runs made on another build)")
    step(description="bench table: HTML page")
    return dataclasses.replace(tables, html=_html_page(run, tables))


def _on_this_build(tables: Tables, build_dir: Path) -> bool:
    """Every tabled run was made on the build now at `build_dir` (not refiltered since)."""
    current = BuildRef.from_build(build_dir)
    return all(g.ref is not None and g.ref.same_build(current) for g in tables.builds)


def _html_page(run: BenchRun, tables: Tables) -> Path:
    """OUT/report/leaderboard.html: the tables, the paper's numbers and the figures."""
    from talkingub.bench.leaderboard_html import write_leaderboard_html

    evaluation = run.protocol.evaluation
    methods = trained_methods(run.protocol)
    return write_leaderboard_html(
        run.out_dir, tables, methods, run.protocol.name, averaging=evaluation.averaging
    )


def _grids(run: BenchRun, step: Callable[..., None] = lambda **_: None) -> None:
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
        step(description=f"bench table: grid video {item.item}")
        # the references need no column: copy-source and copy-driving are the first two
        videos = {
            m: run_dir(run.out_dir, m, seed) / "eval" / "videos" / task / f"{item.item}.mp4"
            for m in trained_methods(run.protocol)
        }
        grid_video(item, task, store, videos, run.out_dir / "tables" / "grids" / f"{item.item}.mp4")


def run_all(run: BenchRun) -> BenchResult:
    _refuse_early(run, train_jobs(run))
    return _run_all(run)


@_logged("run")
def _run_all(run: BenchRun) -> BenchResult:
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
    verbose: bool = False,
    **overrides: Any,
) -> BenchResult:
    """The CPU-scale bench for the demo: `tiny` configs, a few steps, the tiny protocol's
    metrics; returns the result with `table_path` (Markdown leaderboard). A run trained
    before (the demo run again) trains again from step 0, its earlier outputs moved aside
    (`restart`); `restart=False` refuses instead."""
    chosen = with_schedule(load_protocol(protocol, methods=tuple(methods)), steps=steps)
    chosen = dataclasses.replace(chosen, **overrides) if overrides else chosen
    run = BenchRun(
        Path(build_dir),
        Path(out_dir),
        chosen,
        device="cpu",
        progress=progress,
        restart=restart,
        verbose=verbose,
    )
    return run_all(run)
