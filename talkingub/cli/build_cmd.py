"""`talkingub build` and `talkingub refilter`."""

from __future__ import annotations

import collections
import dataclasses
import inspect
from pathlib import Path
from typing import Any

import click
import pyarrow.parquet as pq
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from talkingub.cli.defaults import (
    LibraryDefault,
    config_option,
    given,
    out_folder_option,
    verbose_option,
)
from talkingub.cli.fetch_cmd import fetch_config, fetch_options, folder_options, print_summary
from talkingub.config import merge
from talkingub.curate.config import BuildConfig, CropConfig, FilterConfig, SplitConfig
from talkingub.curate.refilter import refilter
from talkingub.curate.run_types import BuildRun, BuildSummary
from talkingub.curate.runner import run
from talkingub.fetch import FetchSummary

# Decision settings: `build` and `refilter` get one flag per field of these sections, generated
# from the config dataclasses so that no setting can be forgotten (`--face-ratio-min`, ...).
DECISION_SECTIONS: dict[str, type] = {
    "filters": FilterConfig,
    "crop": CropConfig,
    "split": SplitConfig,
}
HELP = {
    "face_ratio_min": "Lowest face/upper-body height ratio kept (paper: 1/3).",
    "face_ratio_max": "Highest face/upper-body height ratio kept (paper: 2/3).",
    "min_torso": "Torso shown below the shoulder line, in face heights (upper body in view).",
    "max_upscale": "Largest crop upscaling allowed (1.0 = none).",
    "min_seconds": "Shortest clip kept, in seconds.",
    "min_sharpness": "Lowest face sharpness (Laplacian variance).",
    "bg_max_step": "Largest background change between analysed frames (grey levels).",
    "bg_max_drift": "Largest background change from a sequence's first frame (grey levels).",
    "max_people": "Most faces or person regions allowed on a frame.",
    "multi_person_share": "Share of a sequence's frames with several people that rejects it.",
    "max_gap": "Longest face-detection miss (analysed frames) bridged inside a clip.",
    "max_face_overhang": "Largest share of the face box allowed outside the crop.",
    "output_size": "Side of the output clips (px).",
    "margin": "Space around the upper-body union, share of the crop side.",
    "face_scale": "Side of PTUS's square face box / face height.",
    "crf": "libx264 quality of the clips.",
    "preset": "libx264 speed preset.",
    "encode_threads": "libx264 threads (1: reproducible bytes).",
    "seed": "Seed of the identity-disjoint split.",
    "test_fraction": "Share of identity groups sent to test.",
    "train_fps": "Frame rate of the sampled training frames.",
    "test_frames": "Frames per test video (the first N).",
    "dedup_hamming": "Difference-hash distance (of 64 bits) that marks a duplicate frame.",
}


def decision_flags() -> dict[str, str]:
    """Click parameter name -> dotted config key, for every decision setting."""
    return {
        f.name: f"{section}.{f.name}"
        for section, cls in DECISION_SECTIONS.items()
        for f in dataclasses.fields(cls)
    }


def threshold_options(func: Any) -> Any:
    for section, cls in reversed(DECISION_SECTIONS.items()):
        for f in reversed(dataclasses.fields(cls)):
            flag = "--" + f.name.replace("_", "-")
            text = HELP.get(f.name, f"{section}.{f.name}")
            option = click.option(
                flag, f.name, type=type(f.default), help=f"{text} [{section}.{f.name}]"
            )
            func = option(func)
    return func


def overrides(opts: dict[str, Any]) -> dict[str, Any]:
    return {dotted: opts.pop(name) for name, dotted in decision_flags().items()}


def print_build_summary(summary: BuildSummary, console: Console | None = None) -> None:
    console = console or Console()
    if is_fetch_only(summary):  # no funnel, no dataset outputs: only what the pass wrote
        print_summary(fetch_counts(summary.outputs["fetch"]), console)
        return
    table = Table(title=f"build funnel (config {summary.config_hash})", show_edge=False)
    table.add_column("stage")
    table.add_column("count", justify="right")
    for name, count in summary.funnel:
        table.add_row(name, str(count))
    console.print(table)
    if summary.funnel:  # the process stage ran (refilter, a full or process-only build)
        print_licence_summary(summary, console)
    console.print(f"outputs: {summary.out_dir} (funnel.md, stats.json, shards/, *.parquet)")
    fetched = summary.out_dir / "fetch.parquet"
    if fetched.is_file():
        console.print(f"fetch results: {fetched} (one row per manifest row)")


def is_fetch_only(summary: BuildSummary) -> bool:
    """A `--stages fetch` pass: the process stage did not run (no funnel, no dataset outputs)."""
    return not summary.funnel and set(summary.outputs) == {"fetch"}


def fetch_counts(table: Path) -> FetchSummary:
    """Rows per status, and per reason for the rows that are not ok, of a fetch results table
    (as `talkingub fetch` counts them; rows reused from an earlier run are not told apart)."""
    rows = pq.read_table(table, columns=["status", "reason"]).to_pylist()
    status = collections.Counter(str(r["status"]) for r in rows)
    reasons = collections.Counter(str(r["reason"]) for r in rows if r["status"] != "ok")
    return FetchSummary(table, len(rows), dict(status), dict(reasons), reused=0)


def print_licence_summary(summary: BuildSummary, console: Console) -> None:
    """Kept clips per manifest `license` value (counted by the library, printed here)."""
    table = Table(title="kept clips by licence", show_edge=False)
    table.add_column("license")
    table.add_column("clips", justify="right")
    for licence, count in summary.licences:
        table.add_row(escape(licence), str(count))
    if not summary.licences:
        table.add_row("(no kept clips)", "0")
    console.print(table)


@click.command("build")
@click.argument(
    "manifest", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@out_folder_option("Output folder.")
@click.option(
    "--recipe",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML recipe (default: the Talking-UB protocol shipped in the package, "
    "talkingub/presets/recipes/talking-ub.yaml).",
)
@click.option(
    "--stages",
    type=click.Choice(["all", "fetch", "process"]),
    default="all",
    show_default=True,
    help="Run fetch and processing together or as separate passes.",
)
@config_option(
    "--executor",
    config=BuildRun,
    field="executor",
    type=click.Choice(["serial", "process", "ray"]),
    help="Where videos are processed.",
)
@click.option(
    "--ray-address", help='With --executor ray: "auto" or HOST:PORT of a running cluster.'
)
@config_option(
    "--build-workers",
    config=BuildRun,
    field="workers",
    type=int,
    help="Videos processed in parallel.",
)
@config_option(
    "--video-timeout",
    config=BuildRun,
    field="video_timeout",
    type=click.FloatRange(min=0),
    help="Hard limit in seconds per video (process/ray executors kill the worker; 0: none).",
)
@threshold_options
@fetch_options
@verbose_option("OUT/logs/build.log")
@folder_options
def build_command(
    manifest: Path | None,
    out: Path,
    recipe: Path | None,
    stages: str,
    executor: str | None,
    build_workers: int | None,
    video_timeout: float | None,
    ray_address: str | None,
    force: bool,
    wait: bool,
    verbose: bool,
    **opts: Any,
) -> None:
    """Build a Talking-UB-style dataset from MANIFEST into OUT.

    Steps: fetch -> decode -> shots -> person analysis -> filters -> crop 256x256 -> split ->
    WebDataset shards + Parquet manifests + funnel + contact sheets. Re-runs reuse every
    finished step.
    """
    recipe_config = merge(BuildConfig, recipe, overrides(opts))
    chosen = ("fetch", "process") if stages == "all" else (stages,)
    fetch = (
        fetch_config(manifest, out, False, force=force, wait=wait, **opts)
        if manifest and "fetch" in chosen
        else None
    )
    if "fetch" in chosen and fetch is None:
        raise click.UsageError("MANIFEST is required when the fetch stage runs")
    # flags not given are None: BuildRun's defaults apply
    chosen_run = given(executor=executor, workers=build_workers)
    if video_timeout is not None:
        chosen_run["video_timeout"] = video_timeout or None  # 0: no limit
    summary = run(
        BuildRun(
            out_dir=out,
            recipe=recipe_config,
            fetch=fetch,
            stages=chosen,
            ray_address=ray_address,
            progress=not opts["no_progress"],
            force=force,
            wait=wait,
            verbose=verbose,
            **chosen_run,
        )
    )
    print_build_summary(summary)


@click.command("refilter")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@threshold_options
@click.option(
    "--workers",
    type=int,
    cls=LibraryDefault,
    library=lambda: inspect.signature(refilter).parameters["workers"].default,
    help="Videos in parallel.",
)
@click.option("--no-progress", is_flag=True, help="Disable progress bars.")
@verbose_option("OUT/logs/refilter.log")
@folder_options
def refilter_command(
    out: Path,
    workers: int | None,
    no_progress: bool,
    verbose: bool,
    force: bool,
    wait: bool,
    **opts: Any,
) -> None:
    """Re-decide a finished build in OUT with new thresholds, without running detection."""
    changes = {k: v for k, v in overrides(opts).items() if v is not None}
    summary = refilter(
        out,
        changes,
        progress=not no_progress,
        force=force,
        wait=wait,
        verbose=verbose,
        **given(workers=workers),
    )
    print_build_summary(summary)


def register(group: click.Group) -> None:
    group.add_command(build_command)
    group.add_command(refilter_command)
    group.add_command(verify_command)


@click.command("verify")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--no-progress", is_flag=True, help="Disable progress bars.")
def verify_command(out: Path, no_progress: bool) -> None:
    """Check a finished build: every output file against SHA256SUMS (none missing, unlisted or
    outside OUT), schema versions, clip rows vs shard samples, each sample's JSON vs its
    frames.parquet rows, stats.json's funnel counts vs the tables and shards, exports, split
    disjointness. Exits 1 and lists every problem found."""
    from talkingub.curate.verify import verify_build
    from talkingub.progress import TaskBars

    try:
        with TaskBars(enabled=not no_progress, transient=True) as bars:  # then the verdict
            task = bars.add("verify: hash files", None, unit="files")
            problems = verify_build(
                out, lambda done, total: bars.update(task, completed=done, total=total)
            )
    except Exception as exc:  # verify reports bad files itself; this is a last resort
        problems = [f"verify could not finish ({type(exc).__name__}: {exc})"]
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"ok: {out} is consistent")
