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


def _options(func: Callable[..., Any]) -> Callable[..., Any]:
    decorators = [
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
        click.option(
            "--device", default="auto", show_default=True, help="auto | cpu | cuda | cuda:N"
        ),
        click.option("--resume", is_flag=True, help="Continue from each run's last checkpoint."),
        click.option("--steps", type=int, default=None, help="Override the protocol's step count."),
        click.option("--no-progress", is_flag=True, help="No progress bars (logs, CI)."),
        click.option(
            "--without-pretrained-losses",
            is_flag=True,
            help="Train without the loss terms that need pretrained weights (VGG-19 "
            "perceptual, Hopenet head pose) instead of refusing when they are missing; "
            "recorded in each run's run.json.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _run(**kw: Any) -> Any:
    from talkingub.bench.protocol import load_protocol, with_schedule
    from talkingub.bench.runner import BenchRun

    methods = (
        tuple(m.strip() for m in kw["methods"].split(",") if m.strip()) if kw["methods"] else None
    )
    protocol = load_protocol(kw["protocol"], methods=methods)
    if kw["steps"]:
        protocol = with_schedule(protocol, steps=kw["steps"])
    if kw["without_pretrained_losses"]:
        protocol = dataclasses.replace(protocol, without_pretrained_losses=True)
    return BenchRun(
        kw["build_dir"], kw["out_dir"], protocol, kw["device"], kw["resume"], not kw["no_progress"]
    )


def _echo_table(tables: Any) -> None:
    if tables is not None:
        click.echo(tables.markdown.read_text().split("\n## Published")[0])
        click.echo(f"wrote {tables.markdown}, {tables.latex.name}, {tables.csv.name}")


@click.group("bench")
def bench_group() -> None:
    """Train, evaluate and tabulate every method under one protocol."""


@bench_group.command("train")
@_options
def train_command(**kw: Any) -> None:
    """Train each method (and seed) of the protocol."""
    from talkingub.bench.runner import train_all

    for result in train_all(_run(**kw)):
        rate = f"{result.steps_per_s:.2f} it/s"
        click.echo(f"{result.method}: {result.steps} steps, {rate} -> {result.final}")


@bench_group.command("eval")
@_options
def eval_command(**kw: Any) -> None:
    """Evaluate trained methods on the fixed same- and cross-identity lists."""
    from talkingub.bench.runner import eval_all

    for result in eval_all(_run(**kw)):
        click.echo(f"{result.method} seed {result.seed}: {result.per_video}")


@bench_group.command("table")
@_options
def table_command(**kw: Any) -> None:
    """Leaderboard (Markdown, LaTeX, CSV), bar chart and grid videos from the evaluations."""
    from talkingub.bench.runner import table_all

    _echo_table(table_all(_run(**kw)))


@bench_group.command("run")
@_options
def run_command(**kw: Any) -> None:
    """train + eval + table."""
    from talkingub.bench.runner import run_all

    result = run_all(_run(**kw))
    _echo_table(result.tables)


def register(group: click.Group) -> None:
    group.add_command(bench_group)
