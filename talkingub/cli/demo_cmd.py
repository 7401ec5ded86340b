"""`talkingub demo` (the README's first command) and `talkingub sample`."""

from __future__ import annotations

from pathlib import Path

import click

from talkingub.cli.build_cmd import print_build_summary
from talkingub.demo.run import DemoConfig, run_demo
from talkingub.demo.sample import write_sample


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
@click.option("--no-progress", is_flag=True, help="Disable progress bars.")
def demo_command(out: Path, workers: int, no_progress: bool) -> None:
    """Run the pipeline end to end, offline, on embedded sample videos.

    The sample videos are generated once (deterministically) from public-domain portraits
    that ship inside scikit-image and matplotlib.
    """
    result = run_demo(DemoConfig(out_dir=out, workers=workers, progress=not no_progress))
    click.echo(f"sample manifest: {result.manifest}")
    print_build_summary(result.build)


@click.command("sample")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def sample_command(folder: Path) -> None:
    """Generate the sample videos and their manifest (sample.csv) into FOLDER."""
    click.echo(f"wrote {write_sample(folder)}")


def register(group: click.Group) -> None:
    group.add_command(demo_command)
    group.add_command(sample_command)
