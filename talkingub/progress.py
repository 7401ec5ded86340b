"""Progress bars of the long commands: rich bars on stderr (stdout stays for results), off
with `--no-progress` (logs, CI). A command's bar class subclasses `ProgressBars`, which owns
the `rich.progress.Progress` and its context."""

from __future__ import annotations

from types import TracebackType
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import Progress, ProgressColumn

_Bars = TypeVar("_Bars", bound="ProgressBars")


class ProgressBars:
    """A `rich.progress.Progress` on stderr with `columns`; a context manager."""

    def __init__(
        self, *columns: str | ProgressColumn, enabled: bool = True, console: Console | None = None
    ) -> None:
        self.enabled = enabled
        self._progress = Progress(
            *columns,
            console=console or Console(stderr=True),
            disable=not enabled,
            transient=False,
        )

    def __enter__(self: _Bars) -> _Bars:
        self._progress.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.__exit__(kind, exc, tb)

    def log(self, *objects: Any) -> None:
        """A line above the bars (shown only when the bars are)."""
        if self.enabled:
            self._progress.console.log(*objects)
