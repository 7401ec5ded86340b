"""Options whose default the library supplies (one source of truth).

Such an option defaults to None in Click: left out, it is not passed on, and the library's
config field (or constant) applies. `--help` still shows that value, as `show_default` would,
asked from the library only when help is rendered, so building the CLI imports no library
module (torch stays out of `talkingub --help`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.types import OptionHelpExtra


class LibraryDefault(click.Option):
    """`click.option(..., cls=LibraryDefault, library=lambda: VALUE)`: default None, help
    shows `[default: VALUE]`."""

    def __init__(self, *args: Any, library: Callable[[], object], **kwargs: Any) -> None:
        super().__init__(*args, default=None, **kwargs)
        self.library = library

    def get_help_extra(self, ctx: click.Context) -> OptionHelpExtra:
        return {**super().get_help_extra(ctx), "default": str(self.library())}


def config_option(*decls: str, config: type, field: str, **kwargs: Any) -> Callable[[Any], Any]:
    """`click.option` defaulting to None whose help shows `config`'s default for `field`."""
    return click.option(
        *decls, cls=LibraryDefault, library=lambda: field_default(config, field), **kwargs
    )


def out_folder_option(help: str) -> Callable[[Any], Any]:
    """The required `-o/--out` output folder of `fetch` and `build`."""
    path = click.Path(file_okay=False, path_type=Path)
    return click.option("-o", "--out", type=path, required=True, help=help)


def verbose_option(log: str) -> Callable[[Any], Any]:
    """`--verbose`: third-party log output on the terminal instead of only in `log`."""
    return click.option(
        "--verbose",
        is_flag=True,
        help="Show third-party log output (MediaPipe/TFLite/absl warnings, protobuf and "
        f"library warnings) on the terminal; without it that output goes only to {log}.",
    )


def field_default(config: type, name: str) -> Any:
    """The default of dataclass field `name` of `config`."""
    field = next(f for f in dataclasses.fields(config) if f.name == name)
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def given(**options: Any) -> dict[str, Any]:
    """The options that were given (not None), to pass on as keywords."""
    return {name: value for name, value in options.items() if value is not None}
