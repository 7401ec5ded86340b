"""`talkingub weights list|fetch|verify|path|import`: the pretrained files the toolkit can use,
and published model checkpoints imported as bench-format checkpoints."""

from __future__ import annotations

from pathlib import Path

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


@weights_group.command("import")
@click.argument("method")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Checkpoint to write  [default: <weights folder>/official/METHOD-VARIANT.pt]",
)
@click.option(
    "--variant",
    default=None,
    help="The published variant (vox | ted | taichi, per method; liveportrait: human)  "
    "[default: the only one, else the one the file name names]",
)
@click.option(
    "--config",
    default=None,
    help="Our config to map the weights onto (a variant name or YAML file)  [default: paper "
    "with the official variant's settings]",
)
def import_command(
    method: str, file: Path, out: Path | None, variant: str | None, config: str | None
) -> None:
    """Import the official checkpoint FILE of METHOD (fomm, mraa, tpsmm, lia; for liveportrait
    FILE is the release folder, liveportrait/ with base_models/ and retargeting_models/) as a
    bench checkpoint: every tensor mapped by an explicit key map with shapes checked, the
    sampling convention it was trained with applied, the sha256 of each file and the source
    recorded."""
    from talkingub.bench.official import run_import

    result = run_import(method, file, variant=variant, out=out, config=config)
    source = result.source
    files = source["files"]
    if len(files) == 1:
        click.echo(f"{method} {source['variant']}: {source['file']} sha256 {source['sha256']}")
    else:
        click.echo(f"{method} {source['variant']}: {len(files)} files in {file}")
        for record in files:
            click.echo(f"  {record['name']} sha256 {record['sha256']}")
    for name, matches in (source.get("published_sha256_match") or {}).items():
        click.echo(f"  {name}: {'matches' if matches else 'DIFFERS from'} the published sha256")
    for entry, what in source["entries"].items():
        click.echo(f"  {entry}: {what}")
    mapped, fixed, dropped = (len(source[k]) for k in ("key_map", "fixed", "dropped"))
    click.echo(f"  {mapped} tensors mapped, {fixed} constants checked, {dropped} unused dropped")
    click.echo(f"  align_corners={source['sampling']['align_corners']}")
    click.echo(str(result.path))


def register(group: click.Group) -> None:
    group.add_command(weights_group)
