"""`talkingub metrics PRED TARGET`: same-identity metrics between two folders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import yaml

from talkingub.errors import ConfigError

# what `Evaluation.write` writes; checked here before any metric is computed
RESULT_SUFFIXES = (".json", ".parquet")


def check_result_paths(paths: tuple[Path, ...]) -> None:
    """Refuse a results file that cannot be written, before the (long) computation: a suffix
    other than `RESULT_SUFFIXES`, or a folder that is not one or cannot be written in (a
    missing folder is created on write, so its nearest existing parent must be writable)."""
    for path in paths:
        if path.suffix not in RESULT_SUFFIXES:
            raise ConfigError(f"results file {path} must end in {' or '.join(RESULT_SUFFIXES)}")
        if path.is_dir():
            raise ConfigError(f"results file {path} is a folder")
        folder = path.absolute().parent
        while not folder.exists() and not folder.is_symlink():
            folder = folder.parent
        if not folder.is_dir():
            raise ConfigError(f"cannot write results file {path}: {folder} is not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ConfigError(f"cannot write results file {path}: {folder} is not writable")


def _parse_sets(pairs: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """`metric.key=value` (YAML value) -> {metric: {key: value}}."""
    options: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        metric, dot, option = key.partition(".")
        if not sep or not dot:
            raise ConfigError(f"--set expects METRIC.KEY=VALUE, got {pair!r}")
        options.setdefault(metric, {})[option] = yaml.safe_load(raw)
    return options


@click.command("metrics")
@click.argument("pred", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("target", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-m",
    "--metrics",
    default="l1,akd,mkr,aed,csim,fld,psnr,ssim",
    show_default=True,
    help="Comma-separated metric names (also lpips, fid).",
)
@click.option(
    "--size", default=256, show_default=True, help="Resize frames to SIZE x SIZE (0: keep)."
)
@click.option("--stride", default=1, show_default=True, help="Use every STRIDE-th frame.")
@click.option("--max-frames", type=int, default=None, help="At most this many frames per item.")
@click.option("--batch", default=16, show_default=True)
@click.option(
    "--averaging", type=click.Choice(["frame", "video"]), default="frame", show_default=True
)
@click.option(
    "--missing",
    type=click.Choice(["skip", "penalise"]),
    default="skip",
    show_default=True,
    help="Frames whose generated image has no detection.",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="METRIC.KEY=VALUE",
    help="Per-metric option, e.g. akd.backend=rtmpose-m-body7, aed.distance=mean_abs.",
)
@click.option(
    "--continue",
    "keep_going",
    is_flag=True,
    help="Report metrics whose weights are missing as n/a instead of failing.",
)
@click.option(
    "-o",
    "--out",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write results (.json or .parquet); repeatable. Checked before anything is computed.",
)
def metrics_command(
    pred: Path,
    target: Path,
    metrics: str,
    size: int,
    stride: int,
    max_frames: int | None,
    batch: int,
    averaging: str,
    missing: str,
    sets: tuple[str, ...],
    keep_going: bool,
    out: tuple[Path, ...],
) -> None:
    """Compute metrics between generated (PRED) and ground-truth (TARGET) folders of videos
    or frames, paired by name; prints a table with units and missing-detection rates."""
    check_result_paths(out)  # before the imports and the computation: fail in a second
    from rich.console import Console

    from talkingub.metrics.evaluate import EvaluationConfig, evaluate_folders, summary_table

    config = EvaluationConfig(
        metrics=tuple(m.strip() for m in metrics.split(",") if m.strip()),
        size=size or None,
        stride=stride,
        max_frames=max_frames,
        batch=batch,
        averaging=averaging,  # type: ignore[arg-type]
        missing=missing,  # type: ignore[arg-type]
        on_missing_weights="na" if keep_going else "raise",
        options=_parse_sets(sets),
    )
    evaluation = evaluate_folders(pred, target, config)
    console = Console()
    if not console.is_terminal:  # pipes and logs: never truncate the units column
        console = Console(width=200)
    console.print(summary_table(evaluation))
    for path in out:
        evaluation.write(path)
        click.echo(f"wrote {path}")


def register(group: click.Group) -> None:
    group.add_command(metrics_command)
