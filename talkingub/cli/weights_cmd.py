"""`talkingub weights list|fetch|verify|path`: the pretrained files the toolkit can use."""

from __future__ import annotations

import click
from rich.progress import TaskID

from talkingub.errors import WeightsMissingError
from talkingub.progress import ProgressBars


def _names(names: tuple[str, ...]) -> list[str]:
    from talkingub.weights.registry import WEIGHTS, _load_catalogue

    _load_catalogue()
    return list(names) or sorted(WEIGHTS)


@click.group("weights")
def weights_group() -> None:
    """List, download and check model weights (nothing downloads unless you ask)."""


@weights_group.command("list")
def list_command() -> None:
    """Every registered file: state, name, file, sha256, used by."""
    from talkingub.weights.registry import local_path, spec, verify

    for name in _names(()):
        entry = spec(name)
        state = "ok" if verify(name) else ("present" if local_path(name).is_file() else "missing")
        digest = entry.sha256[:12] if entry.pinned else "unpinned"
        used = ",".join(entry.used_by)
        click.echo(f"{state:8} {name:20} {entry.filename:45} {digest:12} {used}")


@weights_group.command("fetch")
@click.argument("names", nargs=-1, required=True)
@click.option("--force", is_flag=True, help="Download again even when a verified copy exists.")
@click.option("--url", default=None, help="Download from this mirror instead (one name only).")
@click.option("--no-progress", is_flag=True, help="Disable progress bars.")
def fetch_command(names: tuple[str, ...], force: bool, url: str | None, no_progress: bool) -> None:
    """Download NAMES (resumes an interrupted download; checks the sha256)."""
    from talkingub.weights.fetch import fetch

    if url and len(names) > 1:
        raise click.UsageError("--url applies to a single name")
    with _download_bars(enabled=not no_progress) as bars:
        for name in names:
            task = bars.progress.add_task(name, total=None)

            def moved(done: int, total: int | None, task: TaskID = task) -> None:
                bars.progress.update(task, completed=done, total=total)

            path = fetch(name, force=force, url=url, progress=moved)
            bars.progress.update(task, visible=False)
            click.echo(f"{name}: {path}")


def _download_bars(enabled: bool) -> ProgressBars:
    """One bar per download: bytes, rate, labelled ETA (stderr)."""
    from rich.progress import BarColumn, DownloadColumn, TextColumn, TransferSpeedColumn

    from talkingub.progress import EtaColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        EtaColumn(),
    )
    return ProgressBars(*columns, enabled=enabled)


@weights_group.command("verify")
@click.argument("names", nargs=-1)
def verify_command(names: tuple[str, ...]) -> None:
    """Check the files that are present (all registered names by default)."""
    from talkingub.weights.registry import local_path, verify

    bad = []
    for name in _names(names):
        if not local_path(name).is_file():
            click.echo(f"missing  {name}")
        elif verify(name):
            click.echo(f"ok       {name}")
        else:
            click.echo(f"MISMATCH {name}  (talkingub weights fetch {name} --force)")
            bad.append(name)
    if bad:
        raise WeightsMissingError(f"hash mismatch: {', '.join(bad)}")


@weights_group.command("path")
@click.argument("name")
def path_command(name: str) -> None:
    """Print where NAME lives (or would be fetched to)."""
    from talkingub.weights.registry import local_path

    click.echo(str(local_path(name)))


def register(group: click.Group) -> None:
    group.add_command(weights_group)
