"""Thin Click layer: each command collects options into a typed config and calls one library
function. Library errors (`TalkingubError`) become one-line messages; `--debug` shows tracebacks."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from talkingub import __version__
from talkingub.errors import TalkingubError

# Each module defines `register(group)`; keep the list sorted.
COMMAND_MODULES = (
    "talkingub.cli.bench_cmd",
    "talkingub.cli.build_cmd",
    "talkingub.cli.demo_cmd",
    "talkingub.cli.fetch_cmd",
    "talkingub.cli.metrics_cmd",
    "talkingub.cli.weights_cmd",
)


class TalkingubGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TalkingubError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=TalkingubGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="talkingub")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """talkingub: build the Talking-UB dataset and benchmark talking upper-body synthesis."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(main)
