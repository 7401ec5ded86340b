"""`talkingub fetch`: the first build stage on its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from talkingub.cli.defaults import config_option, given, out_folder_option
from talkingub.fetch import FetchConfig, FetchSummary, run

# Fetch settings whose flag has the field's name and no value of its own: when the flag is
# not given, FetchConfig's default applies (`fetch_config` passes only the given ones).
FETCH_FIELDS = (
    "workers",
    "max_height",
    "retries",
    "rate_limit",
    "socket_timeout",
    "on_invalid_row",
)


def fetch_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by `fetch` and `build` (fetch stage settings)."""
    options = [
        config_option(
            "--workers",
            config=FetchConfig,
            field="workers",
            type=int,
            help="Rows fetched in parallel.",
        ),
        config_option(
            "--max-height",
            config=FetchConfig,
            field="max_height",
            type=int,
            help="Highest video height to download (format cap).",
        ),
        config_option(
            "--retries",
            config=FetchConfig,
            field="retries",
            type=int,
            help="Extra attempts for transient failures (429, 5xx, network, timeout).",
        ),
        config_option(
            "--rate-limit",
            config=FetchConfig,
            field="rate_limit",
            type=float,
            help="Requests per minute shared by all workers (0 = no limit).",
        ),
        config_option(
            "--socket-timeout",
            config=FetchConfig,
            field="socket_timeout",
            type=float,
            help="Seconds before a stalled connection fails.",
        ),
        click.option(
            "--cookies",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Netscape cookies file passed to yt-dlp.",
        ),
        click.option("--proxy", help="Proxy URL passed to yt-dlp."),
        click.option("--max-filesize", type=int, help="Skip downloads larger than this (bytes)."),
        click.option(
            "--copy",
            "local_copy",
            is_flag=True,
            help="Copy local files instead of hard-linking them.",
        ),
        config_option(
            "--on-invalid-row",
            config=FetchConfig,
            field="on_invalid_row",
            type=click.Choice(["error", "skip"]),
            help="Refuse a manifest with a bad row, or record the row as skipped.",
        ),
        click.option("--no-progress", is_flag=True, help="Disable progress bars."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def folder_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--force` and `--wait`, for the commands that write an output folder."""
    func = click.option(
        "--wait",
        is_flag=True,
        help="If another run is writing OUT, wait for it to finish instead of failing at once.",
    )(func)
    return click.option(
        "--force",
        is_flag=True,
        help="Write into a non-empty OUT that talkingub did not make (adopt it); files the "
        "build did not write are never deleted.",
    )(func)


def fetch_config(manifest: Path, out: Path, dry_run: bool, **opts: Any) -> FetchConfig:
    """The fetch settings of a command line: what it set, FetchConfig's defaults otherwise."""
    return FetchConfig(
        manifest=manifest,
        out_dir=out,
        dry_run=dry_run,
        cookies=opts["cookies"],
        proxy=opts["proxy"],
        max_filesize=opts["max_filesize"],
        local_mode="copy" if opts["local_copy"] else "link",
        progress=not opts["no_progress"],
        force=opts.get("force", False),
        wait=opts.get("wait", False),
        **given(**{name: opts[name] for name in FETCH_FIELDS}),
    )


def print_summary(summary: FetchSummary, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"fetch: {summary.total} rows", show_edge=False)
    table.add_column("status")
    table.add_column("rows", justify="right")
    for status, count in sorted(summary.by_status.items()):
        table.add_row(status, str(count))
    for reason, count in sorted(summary.by_reason.items()):
        table.add_row(f"  {reason}", str(count))
    console.print(table)
    if summary.reused:
        console.print(f"{summary.reused} rows reused from an earlier run (hash verified)")
    # soft wrap: a long path is printed whole on one line, never folded; no markup in paths
    note = " (dry run: `build --stages process` never reads it)" if summary.dry_run else ""
    text = f"results: {summary.table}{note}"
    console.print(text, soft_wrap=True, markup=False, highlight=False)


@click.command("fetch")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@out_folder_option("Output folder (raw/ videos and fetch.parquet go here).")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Validate the manifest and probe availability; download nothing. Results go to "
    "OUT/fetch-dryrun.parquet, never OUT/fetch.parquet.",
)
@fetch_options
@folder_options
def fetch_command(manifest: Path, out: Path, dry_run: bool, **opts: Any) -> None:
    """Download (yt-dlp) or link (local files) every row of MANIFEST.

    MANIFEST is a Parquet, CSV/TSV or plain URL-list file (see the README's manifest schema).
    Every row ends as one row of OUT/fetch.parquet (OUT/fetch-dryrun.parquet with --dry-run)
    with a status and a reason code.
    """
    print_summary(run(fetch_config(manifest, out, dry_run, **opts)))


def register(group: click.Group) -> None:
    group.add_command(fetch_command)
