"""Progress bars of the long commands: rich bars on stderr (stdout stays for results), off
with `--no-progress` (logs, CI). A command's bar class subclasses `ProgressBars`, which owns
the `rich.progress.Progress` and its context; `TaskBars` is the common kind (a description,
a bar, `done/total unit`, elapsed time and a labelled ETA, `eta 0:12`)."""

from __future__ import annotations

from types import TracebackType
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

_Bars = TypeVar("_Bars", bound="ProgressBars")


class ProgressBars:
    """A `rich.progress.Progress` on stderr with `columns`; a context manager."""

    def __init__(
        self,
        *columns: str | ProgressColumn,
        enabled: bool = True,
        console: Console | None = None,
        transient: bool = False,
    ) -> None:
        self.enabled = enabled
        self._progress = Progress(
            *columns,
            console=console or Console(stderr=True),
            disable=not enabled,
            transient=transient,  # True: the bars go away when done
        )

    def __enter__(self: _Bars) -> _Bars:
        self._progress.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None:  # the error line stays alone: the bars are taken away
            self._progress.live.transient = True
        self._progress.__exit__(kind, exc, tb)

    @property
    def progress(self) -> Progress:
        """The underlying `rich.progress.Progress` (its tasks)."""
        return self._progress

    def log(self, *objects: Any) -> None:
        """A line above the bars (shown only when the bars are)."""
        if self.enabled:
            self._progress.console.log(*objects)


def clock(seconds: float) -> str:
    """`0:12`, `12:05`, `1:02:03`."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class EtaColumn(ProgressColumn):
    """`eta 0:12` (time left at the recent rate), `eta -` while unknown, nothing when the task
    has no total."""

    max_refresh = 0.5

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        if task.finished or task.completed >= task.total:
            return Text("done", style="progress.remaining")
        left = task.time_remaining
        return Text(f"eta {'-' if left is None else clock(left)}", style="progress.remaining")


class CountColumn(ProgressColumn):
    """`3/6 videos`: whole units done (a fractional count is floored), the total, the task's
    `unit` field."""

    def render(self, task: Task) -> Text:
        if task.total is None:  # a step of unknown length: the elapsed time says enough
            return Text("")
        unit = task.fields.get("unit", "")
        text = f"{int(task.completed)}/{task.total:.0f} {unit}".rstrip()
        return Text(text, style="progress.download")


def task_columns() -> tuple[ProgressColumn, ...]:
    return (
        TextColumn("{task.description}"),
        BarColumn(),
        CountColumn(),
        TimeElapsedColumn(),
        EtaColumn(),
    )


class TaskBars(ProgressBars):
    """Bars over counted work: `add` a task, `advance` or `update` it."""

    def __init__(
        self, enabled: bool = True, console: Console | None = None, transient: bool = False
    ) -> None:
        super().__init__(*task_columns(), enabled=enabled, console=console, transient=transient)

    def add(self, description: str, total: float | None, unit: str = "") -> TaskID:
        return self._progress.add_task(description, total=total, unit=unit)

    def advance(self, task: TaskID, amount: float = 1.0) -> None:
        self._progress.advance(task, amount)

    def update(self, task: TaskID, **changes: Any) -> None:
        self._progress.update(task, **changes)

    def remove(self, task: TaskID) -> None:
        self._progress.remove_task(task)


class ItemBars(TaskBars):
    """An items bar that also counts how far the current item is (so it moves within a long
    item), and below it the current item's own bar: its parts (frames) done / expected."""

    def __init__(
        self, description: str, items: int | None = None, enabled: bool = True, unit: str = "frames"
    ) -> None:
        super().__init__(enabled=enabled)
        self._items = self.add(description, total=items, unit="items")
        self._count = items
        self._part: TaskID | None = None
        self._index = -1
        self._unit = unit

    def item(self, index: int, count: int, name: str, done: int, expected: int | None) -> None:
        """Item `index` (0-based) of `count`, named `name`, has `done` of `expected` parts
        done."""
        if count != self._count:
            self._count = count
            self.update(self._items, total=count)
        label = f"  {name}"
        if self._part is None:
            self._part = self.add(label, total=expected, unit=self._unit)
        elif index != self._index:
            self._progress.reset(self._part, total=expected, completed=done, description=label)
        self._index = index
        self.update(self._part, completed=done, total=expected)
        share = min(1.0, done / expected) if expected else 0.0
        self.update(self._items, completed=index + share)

    def finish(self) -> None:
        """Every item done: the items bar full, the item bar gone."""
        if self._part is not None:
            self.remove(self._part)
            self._part = None
        self.update(self._items, completed=self._count or 0)
