"""Thin Click layer: each command collects options into a typed config and calls one library
function. Every error is one line on stderr; `--debug` shows the traceback instead.

Exit codes: 0 done; 1 an unexpected error (`error: <Type>: <message>`) or a failed check;
2 a usage, config or manifest error; 3 the environment: the output's disk is full, over
quota, read-only or not writable, or a file hit the size limit (`EnvironmentStop`: the run
stopped and resumes when run again), or a missing dependency or model weights."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from talkingub import __version__
from talkingub.errors import TalkingubError, environment_stop

DEBUG_HINT = "(run `talkingub --debug ...` for the traceback)"
MAX_MESSAGE = 500

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
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # usage errors (exit 2) and deliberate exits: Click prints them
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            code, message = describe(exc)
            click.echo(f"error: {message}", err=True)
            sys.exit(code)


def describe(exc: Exception) -> tuple[int, str]:
    """Exit code and one-line message for an error that reached the command line."""
    if isinstance(exc, TalkingubError):
        return exc.exit_code, one_line(str(exc))
    stop = environment_stop(exc, out=None)  # a full disk etc. outside any build step
    if stop is not None:
        return stop.exit_code, one_line(str(stop))
    text = one_line(str(exc))
    return 1, f"{type(exc).__name__}{': ' + text if text else ''} {DEBUG_HINT}"


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed; long messages cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_MESSAGE else flat[: MAX_MESSAGE - 1] + "…"


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
