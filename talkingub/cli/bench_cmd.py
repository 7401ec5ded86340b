"""`talkingub bench train|eval|table|run BUILD -o OUT`: the benchmark harness.

Multi-GPU / multi-node: launch the same command with torchrun, e.g.
`torchrun --nproc_per_node 4 -m talkingub bench run data/tub -o runs/bench --protocol paper-gpu`.
Pretrained loss weights (`talkingub weights fetch vgg19 hopenet`) are checked before training
starts; `--without-pretrained-losses` trains without those terms instead. Reference rows
(copy-source, copy-driving) are evaluated and tabulated beside the methods unless
`--no-references`; `--methods copy-source` evaluates one without any checkpoint.
`--pretrained NAME=FILE` evaluates published weights zero-shot (`talkingub.bench.zero_shot`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from talkingub.cli.defaults import LibraryDefault, field_default, given, verbose_option

Option = Callable[[Callable[..., Any]], Callable[..., Any]]


def _default_protocol() -> str:
    from talkingub.bench.runner import DEFAULT_PROTOCOL

    return DEFAULT_PROTOCOL


def _default_device() -> str:
    from talkingub.bench.runner import BenchRun

    return str(field_default(BenchRun, "device"))


# Each command takes only the options it uses: `table` reads the evaluations (and the build
# for its grid videos), `eval` runs models, `train` and `run` train.
WHERE: list[Option] = [
    click.argument("build_dir", type=click.Path(exists=True, file_okay=False, path_type=Path)),
    click.option(
        "-o",
        "--out",
        "out_dir",
        required=True,
        type=click.Path(path_type=Path),
        help="Bench folder (runs, evaluation lists, tables).",
    ),
    click.option(
        "--protocol",
        cls=LibraryDefault,
        library=_default_protocol,
        help="Name of a protocol shipped in talkingub/presets/protocols/, or a YAML path.",
    ),
    click.option(
        "--methods", default=None, help="Comma-separated subset (default: the protocol's)."
    ),
]
RUNNING: list[Option] = [
    click.option(
        "--device",
        cls=LibraryDefault,
        library=_default_device,
        help="auto | cpu | cuda | cuda:N | mps",
    ),
]
# every command: the bars (stderr) and where third-party log output goes (talkingub.io.noise)
OUTPUT: list[Option] = [
    click.option("--no-progress", is_flag=True, help="No progress bars (logs, CI)."),
    verbose_option("OUT/logs/<command>.log"),
]
TRAINING: list[Option] = [
    click.option("--resume", is_flag=True, help="Continue from each run's last checkpoint."),
    click.option(
        "--restart",
        is_flag=True,
        help="Start over where a run already has checkpoints: its earlier outputs are moved "
        "into the run folder's previous-<time>/ (nothing is deleted).",
    ),
    click.option("--steps", type=int, default=None, help="Override the protocol's step count."),
    click.option(
        "--without-pretrained-losses",
        is_flag=True,
        help="Train without the loss terms that need pretrained weights (VGG-19 "
        "perceptual, Hopenet head pose) instead of refusing when they are missing; "
        "recorded in each run's run.json.",
    ),
]


# `eval`, `table` and `run` score or show the reference rows (talkingub.bench.references).
SCORING: list[Option] = [
    click.option(
        "--no-references",
        is_flag=True,
        help="Leave out the reference rows (copy-source, copy-driving) that the protocol's "
        "evaluation.references adds beside the methods (a reference named in --methods "
        "is still scored).",
    ),
]


# Every command checks that its runs share one build (talkingub.bench.build_ref).
BUILDS: list[Option] = [
    click.option(
        "--allow-mixed-builds",
        is_flag=True,
        help="Go on where runs come from different builds (rebuilt or refiltered in "
        "between) instead of refusing: `table` writes the tables with a note listing the "
        "builds, `eval` scores a checkpoint trained on another build, `train` resumes a "
        "run begun on another build (recorded in its run.json).",
    ),
]


# `eval` and `run`: published weights evaluated without training (talkingub.bench.zero_shot).
PRETRAINED: list[Option] = [
    click.option(
        "--pretrained",
        multiple=True,
        metavar="NAME=FILE",
        help="Also evaluate published weights zero-shot (repeatable): FILE a bench-format "
        "checkpoint (`talkingub weights import METHOD FILE`), NAME its row label. Results in "
        "OUT/pretrained/NAME/eval, tabled as 'published weights, zero-shot', never ranked with "
        "the trained methods. `eval` with --pretrained and no --methods evaluates no trained "
        "method.",
    ),
]


def _options(*groups: list[Option]) -> Option:
    def apply(func: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed([d for group in groups for d in group]):
            func = decorator(func)
        return func

    return apply


def _run(
    build_dir: Path,
    out_dir: Path,
    protocol: str | None,
    methods: str | None,
    device: str | None = None,
    no_progress: bool = False,
    resume: bool = False,
    restart: bool = False,
    steps: int | None = None,
    without_pretrained_losses: bool = False,
    no_references: bool = False,
    allow_mixed_builds: bool = False,
    verbose: bool = False,
    pretrained: tuple[str, ...] = (),
) -> Any:
    """The BenchRun of the command's options (those not given, or not taken by the command,
    keep the library's defaults)."""
    from talkingub.bench.distributed import check_device
    from talkingub.bench.protocol import load_protocol, with_schedule
    from talkingub.bench.runner import DEFAULT_PROTOCOL, BenchRun
    from talkingub.bench.zero_shot import parse_pretrained

    if device is not None:
        check_device(device)  # before the protocol or any data is read
    weights = parse_pretrained(pretrained)
    chosen = tuple(m.strip() for m in methods.split(",") if m.strip()) if methods else None
    loaded = load_protocol(DEFAULT_PROTOCOL if protocol is None else protocol, methods=chosen)
    if steps:
        loaded = with_schedule(loaded, steps=steps)
    if without_pretrained_losses:
        loaded = dataclasses.replace(loaded, without_pretrained_losses=True)
    if no_references:
        evaluation = dataclasses.replace(loaded.evaluation, references=())
        loaded = dataclasses.replace(loaded, evaluation=evaluation)
    return BenchRun(
        build_dir,
        out_dir,
        loaded,
        resume=resume,
        progress=not no_progress,
        restart=restart,
        allow_mixed_builds=allow_mixed_builds,
        verbose=verbose,
        pretrained=weights,
        **given(device=device),
    )


def _echo_table(tables: Any) -> None:
    if tables is not None:
        click.echo(tables.markdown.read_text().split("\n## Published")[0])
        click.echo(f"wrote {tables.markdown}, {tables.latex.name}, {tables.csv.name}")
        if tables.html is not None:
            click.echo(f"wrote {tables.html} (open it in a browser)")


def _echo_moved(results: Any) -> None:
    for result in results:
        if result.previous is not None:
            click.echo(f"{result.method}: the earlier run was moved to {result.previous}")


@click.group("bench")
def bench_group() -> None:
    """Train, evaluate and tabulate every method under one protocol."""


@bench_group.command("train")
@_options(WHERE, RUNNING, OUTPUT, TRAINING, BUILDS)
def train_command(**kw: Any) -> None:
    """Train each method (and seed) of the protocol.

    A run folder that already holds a checkpoint needs --resume (continue) or --restart
    (start over)."""
    from talkingub.bench.references import split_methods
    from talkingub.bench.runner import train_all

    run = _run(**kw)
    for name in split_methods(run.protocol.methods)[1]:
        click.echo(f"{name}: a reference row, nothing to train (`talkingub bench eval` scores it)")
    results = train_all(run)
    _echo_moved(results)
    for result in results:
        rate = f"{result.steps_per_s:.2f} it/s"
        click.echo(f"{result.method}: {result.steps} steps, {rate} -> {result.final}")


@bench_group.command("eval")
@_options(WHERE, RUNNING, OUTPUT, SCORING, BUILDS, PRETRAINED)
def eval_command(**kw: Any) -> None:
    """Evaluate trained methods, the reference rows and published weights (--pretrained,
    zero-shot) on the fixed evaluation lists."""
    from talkingub.bench.references import is_reference
    from talkingub.bench.runner import eval_all

    run = _run(**kw)
    if run.pretrained and kw["methods"] is None:  # the published weights, not the protocol's
        run = dataclasses.replace(run, evaluate_trained=False)
    zero_shot = {weights.name for weights in run.pretrained}
    for result in eval_all(run):
        which = "reference" if is_reference(result.method) else f"seed {result.seed}"
        which = "zero-shot" if result.method in zero_shot else which
        click.echo(f"{result.method} {which}: {result.per_video}")


@bench_group.command("table")
@_options(WHERE, OUTPUT, SCORING, BUILDS)
def table_command(**kw: Any) -> None:
    """Leaderboard (Markdown, LaTeX, CSV), bar chart, grid videos and one HTML page
    (OUT/report/leaderboard.html) from the evaluations."""
    from talkingub.bench.runner import table_all

    _echo_table(table_all(_run(**kw)))


@bench_group.command("run")
@_options(WHERE, RUNNING, OUTPUT, TRAINING, SCORING, BUILDS, PRETRAINED)
def run_command(**kw: Any) -> None:
    """train + eval + table."""
    from talkingub.bench.runner import run_all

    result = run_all(_run(**kw))
    _echo_moved(result.trained)
    _echo_table(result.tables)


def register(group: click.Group) -> None:
    group.add_command(bench_group)
