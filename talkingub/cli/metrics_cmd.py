"""`talkingub metrics PRED TARGET`: same-identity metrics between two folders.

Third-party log output (detector warnings) goes to `logs/metrics.log` beside the first `-o`
results file; without `-o` it is discarded. `--verbose` shows it on the terminal instead."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import yaml

from talkingub.cli.defaults import LibraryDefault, field_default, given, verbose_option
from talkingub.errors import ConfigError

# what `Evaluation.write` writes; checked here before any metric is computed
RESULT_SUFFIXES = (".json", ".parquet")
LOG_NAME = "metrics"


def metrics_log(out: tuple[Path, ...]) -> Path | None:
    """Where the third-party log output goes: `logs/metrics.log` beside the first results
    file; None (discarded) without one."""
    from talkingub.io.noise import log_path

    return log_path(out[0].absolute().parent, LOG_NAME) if out else None


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


def _library(name: str) -> Any:
    """`EvaluationConfig`'s default for `name`, as the option takes it."""

    def value() -> Any:
        from talkingub.metrics.evaluate import EvaluationConfig

        default = field_default(EvaluationConfig, name)
        return ",".join(default) if isinstance(default, tuple) else default

    return value


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
@click.argument("pred", type=click.Path(exists=True, path_type=Path))
@click.argument("target", type=click.Path(exists=True, path_type=Path))
@click.option(
    "-m",
    "--metrics",
    cls=LibraryDefault,
    library=_library("metrics"),
    help="Comma-separated metric names (also lpips, fid).",
)
@click.option(
    "--size",
    cls=LibraryDefault,
    library=_library("size"),
    type=int,
    help="Resize frames to SIZE x SIZE (0: keep).",
)
@click.option(
    "--stride",
    cls=LibraryDefault,
    library=_library("stride"),
    type=int,
    help="Use every STRIDE-th frame.",
)
@click.option("--max-frames", type=int, default=None, help="At most this many frames per item.")
@click.option("--batch", cls=LibraryDefault, library=_library("batch"), type=int)
@click.option(
    "--averaging",
    cls=LibraryDefault,
    library=_library("averaging"),
    type=click.Choice(["frame", "video"]),
)
@click.option(
    "--missing",
    cls=LibraryDefault,
    library=_library("missing"),
    type=click.Choice(["skip", "penalise"]),
    help="Frames whose generated image has no detection.",
)
@click.option(
    "--truncate",
    is_flag=True,
    help="Score only the first min(len) frames of items whose prediction and ground truth "
    "differ in length (default: such a pair is an error naming both lengths).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="METRIC.KEY=VALUE",
    help="Per-metric option, e.g. akd.backend=rtmpose-m-body7, aed.preset=ptus, "
    "ssim.border=valid, akd.points=face68.",
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
@click.option("--no-progress", is_flag=True, help="Disable progress bars.")
@verbose_option("logs/metrics.log beside the first -o file (discarded without -o)")
def metrics_command(
    pred: Path,
    target: Path,
    metrics: str | None,
    size: int | None,
    stride: int | None,
    max_frames: int | None,
    batch: int | None,
    averaging: str | None,
    missing: str | None,
    truncate: bool,
    sets: tuple[str, ...],
    keep_going: bool,
    out: tuple[Path, ...],
    no_progress: bool,
    verbose: bool,
) -> None:
    """Compute metrics between generated (PRED) and ground-truth (TARGET) videos: two folders
    of videos or frame folders, paired by name, or two video files; prints a table with units
    and missing-detection rates.

    \b
    Examples:
      talkingub metrics runs/bench/fomm/seed-0/eval/videos/same gt/ -m l1,psnr,ssim
      talkingub metrics fake.mp4 real.mp4 -m l1,akd -o scores.json
    """
    check_result_paths(out)  # before the imports and the computation: fail in a second
    from rich.console import Console

    from talkingub.io.noise import route_noise
    from talkingub.metrics.evaluate import EvaluationConfig, evaluate_folders, summary_table
    from talkingub.progress import ItemBars

    names = None if metrics is None else tuple(m.strip() for m in metrics.split(",") if m.strip())
    chosen = given(metrics=names, stride=stride, batch=batch, averaging=averaging, missing=missing)
    if size is not None:
        chosen["size"] = size or None  # 0: keep the frames' size
    config = EvaluationConfig(
        max_frames=max_frames,
        truncate=truncate,
        on_missing_weights="na" if keep_going else "raise",
        options=_parse_sets(sets),
        **chosen,  # the others: EvaluationConfig's defaults
    )
    bars = ItemBars("metrics", enabled=not no_progress)
    with route_noise(metrics_log(out), verbose, title=LOG_NAME), bars:
        evaluation = evaluate_folders(pred, target, config, progress=bars.item)
        bars.finish()
    console = Console()
    if not console.is_terminal:  # pipes and logs: never truncate the units column
        console = Console(width=200)
    console.print(summary_table(evaluation))
    for path in out:
        evaluation.write(path)
        click.echo(f"wrote {path}")


def register(group: click.Group) -> None:
    group.add_command(metrics_command)
