"""`talkingub build` and `talkingub refilter`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from talkingub.build import BuildConfig, BuildRun, BuildSummary, run
from talkingub.build.refilter import refilter
from talkingub.cli.fetch_cmd import fetch_config, fetch_options
from talkingub.config import merge

THRESHOLD_OPTIONS = {
    "face_ratio_min": "filters.face_ratio_min",
    "face_ratio_max": "filters.face_ratio_max",
    "max_upscale": "filters.max_upscale",
    "min_seconds": "filters.min_seconds",
    "min_sharpness": "filters.min_sharpness",
    "seed": "split.seed",
}


def threshold_options(func: Any) -> Any:
    options = [
        click.option(
            "--face-ratio-min",
            type=float,
            help="Lowest face/upper-body height ratio kept (paper: 1/3).",
        ),
        click.option(
            "--face-ratio-max",
            type=float,
            help="Highest face/upper-body height ratio kept (paper: 2/3).",
        ),
        click.option(
            "--max-upscale", type=float, help="Largest crop upscaling allowed (1.0 = none)."
        ),
        click.option("--min-seconds", type=float, help="Shortest sequence kept, in seconds."),
        click.option(
            "--min-sharpness", type=float, help="Lowest face sharpness (Laplacian variance)."
        ),
        click.option("--seed", type=int, help="Seed of the identity-disjoint split."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def overrides(opts: dict[str, Any]) -> dict[str, Any]:
    return {dotted: opts.pop(name) for name, dotted in THRESHOLD_OPTIONS.items()}


def print_build_summary(summary: BuildSummary, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"build funnel (config {summary.config_hash})", show_edge=False)
    table.add_column("stage")
    table.add_column("count", justify="right")
    for name, count in summary.funnel:
        table.add_row(name, str(count))
    console.print(table)
    console.print(f"outputs: {summary.out_dir} (funnel.md, stats.json, shards/, *.parquet)")
    fetched = summary.out_dir / "fetch.parquet"
    if fetched.is_file():
        console.print(f"fetch results: {fetched} (one row per manifest row)")


@click.command("build")
@click.argument(
    "manifest", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output folder.",
)
@click.option(
    "--recipe",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML recipe (default: the Talking-UB protocol, pipelines/talking-ub.yaml).",
)
@click.option(
    "--stages",
    type=click.Choice(["all", "fetch", "process"]),
    default="all",
    show_default=True,
    help="Run fetch and processing together or as separate passes.",
)
@click.option(
    "--executor",
    type=click.Choice(["serial", "process", "ray"]),
    default="process",
    show_default=True,
    help="Where videos are processed.",
)
@click.option(
    "--ray-address", help='With --executor ray: "auto" or HOST:PORT of a running cluster.'
)
@click.option(
    "--build-workers", type=int, default=2, show_default=True, help="Videos processed in parallel."
)
@click.option(
    "--video-timeout",
    type=click.FloatRange(min=0),
    default=7200.0,
    show_default=True,
    help="Hard limit in seconds per video (process/ray executors kill the worker; 0: none).",
)
@threshold_options
@fetch_options
def build_command(
    manifest: Path | None,
    out: Path,
    recipe: Path | None,
    stages: str,
    executor: str,
    build_workers: int,
    video_timeout: float,
    ray_address: str | None,
    **opts: Any,
) -> None:
    """Build a Talking-UB-style dataset from MANIFEST into OUT.

    Steps: fetch -> decode -> shots -> person analysis -> filters -> crop 256x256 -> split ->
    WebDataset shards + Parquet manifests + funnel + contact sheets. Re-runs reuse every
    finished step.
    """
    recipe_config = merge(BuildConfig, recipe, overrides(opts))
    chosen = ("fetch", "process") if stages == "all" else (stages,)
    fetch = fetch_config(manifest, out, False, **opts) if manifest and "fetch" in chosen else None
    if "fetch" in chosen and fetch is None:
        raise click.UsageError("MANIFEST is required when the fetch stage runs")
    summary = run(
        BuildRun(
            out_dir=out,
            recipe=recipe_config,
            fetch=fetch,
            stages=chosen,
            executor=executor,
            workers=build_workers,
            ray_address=ray_address,
            video_timeout=video_timeout or None,
            progress=not opts["no_progress"],
        )
    )
    print_build_summary(summary)


@click.command("refilter")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@threshold_options
@click.option("--workers", type=int, default=2, show_default=True, help="Videos in parallel.")
@click.option("--no-progress", is_flag=True, help="Disable progress bars.")
def refilter_command(out: Path, workers: int, no_progress: bool, **opts: Any) -> None:
    """Re-decide a finished build in OUT with new thresholds, without running detection."""
    changes = {k: v for k, v in overrides(opts).items() if v is not None}
    print_build_summary(refilter(out, changes, workers=workers, progress=not no_progress))


def register(group: click.Group) -> None:
    group.add_command(build_command)
    group.add_command(refilter_command)
    group.add_command(verify_command)


@click.command("verify")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
def verify_command(out: Path) -> None:
    """Check a finished build: shard hashes, manifest rows vs shards, split disjointness,
    schema versions. Exits 1 and lists every problem found."""
    from talkingub.build.verify import verify_build

    problems = verify_build(out)
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"ok: {out} is consistent")
