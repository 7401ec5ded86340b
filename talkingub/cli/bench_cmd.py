"""`talkingub bench train|eval|table|run BUILD -o OUT`: the benchmark harness.

Multi-GPU / multi-node: launch the same command with torchrun, e.g.
`torchrun --nproc_per_node 4 -m talkingub bench run data/tub -o runs/bench --protocol paper-gpu`.
Pretrained loss weights (`talkingub weights fetch vgg19 hopenet`) are checked before training
starts; `--without-pretrained-losses` trains without those terms instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

Option = Callable[[Callable[..., Any]], Callable[..., Any]]

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
        default="tiny-cpu",
        show_default=True,
        help="Protocol name in benchmarks/protocols/ or a YAML path.",
    ),
    click.option(
        "--methods", default=None, help="Comma-separated subset (default: the protocol's)."
    ),
]
RUNNING: list[Option] = [
    click.option(
        "--device", default="auto", show_default=True, help="auto | cpu | cuda | cuda:N | mps"
    ),
    click.option("--no-progress", is_flag=True, help="No progress bars (logs, CI)."),
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


def _options(*groups: list[Option]) -> Option:
    def apply(func: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed([d for group in groups for d in group]):
            func = decorator(func)
        return func

    return apply


def _run(
    build_dir: Path,
    out_dir: Path,
    protocol: str,
    methods: str | None,
    device: str = "auto",
    no_progress: bool = False,
    resume: bool = False,
    restart: bool = False,
    steps: int | None = None,
    without_pretrained_losses: bool = False,
) -> Any:
    """The BenchRun of the command's options (those it does not take keep their defaults)."""
    from talkingub.bench.distributed import check_device
    from talkingub.bench.protocol import load_protocol, with_schedule
    from talkingub.bench.runner import BenchRun

    check_device(device)  # before the protocol or any data is read
    chosen = tuple(m.strip() for m in methods.split(",") if m.strip()) if methods else None
    loaded = load_protocol(protocol, methods=chosen)
    if steps:
        loaded = with_schedule(loaded, steps=steps)
    if without_pretrained_losses:
        loaded = dataclasses.replace(loaded, without_pretrained_losses=True)
    return BenchRun(
        build_dir,
        out_dir,
        loaded,
        device=device,
        resume=resume,
        progress=not no_progress,
        restart=restart,
    )


def _echo_table(tables: Any) -> None:
    if tables is not None:
        click.echo(tables.markdown.read_text().split("\n## Published")[0])
        click.echo(f"wrote {tables.markdown}, {tables.latex.name}, {tables.csv.name}")


def _echo_moved(results: Any) -> None:
    for result in results:
        if result.previous is not None:
            click.echo(f"{result.method}: the earlier run was moved to {result.previous}")


@click.group("bench")
def bench_group() -> None:
    """Train, evaluate and tabulate every method under one protocol."""


@bench_group.command("train")
@_options(WHERE, RUNNING, TRAINING)
def train_command(**kw: Any) -> None:
    """Train each method (and seed) of the protocol.

    A run folder that already holds a checkpoint needs --resume (continue) or --restart
    (start over)."""
    from talkingub.bench.runner import train_all

    results = train_all(_run(**kw))
    _echo_moved(results)
    for result in results:
        rate = f"{result.steps_per_s:.2f} it/s"
        click.echo(f"{result.method}: {result.steps} steps, {rate} -> {result.final}")


@bench_group.command("eval")
@_options(WHERE, RUNNING)
def eval_command(**kw: Any) -> None:
    """Evaluate trained methods on the fixed same- and cross-identity lists."""
    from talkingub.bench.runner import eval_all

    for result in eval_all(_run(**kw)):
        click.echo(f"{result.method} seed {result.seed}: {result.per_video}")


@bench_group.command("table")
@_options(WHERE)
def table_command(**kw: Any) -> None:
    """Leaderboard (Markdown, LaTeX, CSV), bar chart and grid videos from the evaluations."""
    from talkingub.bench.runner import table_all

    _echo_table(table_all(_run(**kw)))


@bench_group.command("run")
@_options(WHERE, RUNNING, TRAINING)
def run_command(**kw: Any) -> None:
    """train + eval + table."""
    from talkingub.bench.runner import run_all

    result = run_all(_run(**kw))
    _echo_moved(result.trained)
    _echo_table(result.tables)


def register(group: click.Group) -> None:
    group.add_command(bench_group)
