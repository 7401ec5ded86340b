"""`talkingub demo` (the README's first command) and `talkingub sample`."""

from __future__ import annotations

from pathlib import Path

import click

from talkingub.cli.build_cmd import print_build_summary
from talkingub.cli.defaults import verbose_option
from talkingub.demo.run import DemoConfig, run_demo
from talkingub.demo.sample import write_sample_quietly


@click.command("demo")
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/demo"),
    show_default=True,
    help="Output folder.",
)
@click.option("--workers", type=int, default=2, show_default=True, help="Parallel workers.")
@click.option(
    "--bench-steps",
    type=int,
    default=4,
    show_default=True,
    help="Tiny training steps per method in the bench (0 skips the bench).",
)
@click.option("--no-progress", is_flag=True, help="Disable progress bars.")
@verbose_option("OUT/logs/build.log, OUT/bench/logs/run.log and the sample cache's logs/")
def demo_command(
    out: Path, workers: int, bench_steps: int, no_progress: bool, verbose: bool
) -> None:
    """Run the pipeline end to end, offline, on embedded sample videos.

    The sample videos are generated once (deterministically) from public-domain portraits
    that ship inside scikit-image and matplotlib.
    """
    config = DemoConfig(
        out_dir=out,
        workers=workers,
        progress=not no_progress,
        bench_steps=bench_steps,
        verbose=verbose,
    )
    result = run_demo(config)
    click.echo(f"sample manifest: {result.manifest}")
    print_build_summary(result.build)
    if result.table is not None:
        click.echo(result.table.read_text())
        click.echo(f"bench outputs: {result.table.parent}")


@click.command("sample")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--no-progress", is_flag=True, help="Disable progress bars.")
@verbose_option("FOLDER/logs/sample.log")
def sample_command(folder: Path, no_progress: bool, verbose: bool) -> None:
    """Generate the sample videos and their manifest (sample.csv) into FOLDER."""
    click.echo(f"wrote {write_sample_quietly(folder, not no_progress, verbose)}")


def register(group: click.Group) -> None:
    group.add_command(demo_command)
    group.add_command(sample_command)
