"""Rich progress for the fetch stage: one bar over rows, one transient bar per download."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text


class _AmountColumn(ProgressColumn):
    """`done/total rows` for the row bar; bytes and speed for a download bar."""

    def __init__(self) -> None:
        super().__init__()
        self._rows = MofNCompleteColumn()
        self._bytes = DownloadColumn()
        self._speed = TransferSpeedColumn()

    def render(self, task: Task) -> Text:
        if task.fields.get("kind") == "rows":
            return Text.assemble(self._rows.render(task), " rows")
        return Text.assemble(self._bytes.render(task), " ", self._speed.render(task))


class FetchProgress:
    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.enabled = enabled
        self._lock = threading.Lock()
        self._downloads: dict[str, TaskID] = {}
        self._rows: TaskID | None = None
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            _AmountColumn(),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            disable=not enabled,
            transient=False,
        )

    def __enter__(self) -> FetchProgress:
        self._progress.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.__exit__(kind, exc, tb)

    def start(self, total: int) -> None:
        self._rows = self._progress.add_task("fetch", total=total, kind="rows")

    def row_done(self, video_id: str, outcome: str) -> None:
        with self._lock:
            task = self._downloads.pop(video_id, None)
            if task is not None:
                self._progress.remove_task(task)
            if self._rows is not None:
                self._progress.advance(self._rows)
        if self.enabled and not outcome.startswith("ok"):
            self._progress.console.log(f"{video_id}: {outcome}")

    def bytes_hook(self, video_id: str) -> Any:
        def hook(status: dict[str, Any]) -> None:
            total = status.get("total_bytes") or status.get("total_bytes_estimate")
            done = status.get("downloaded_bytes") or 0
            with self._lock:
                task = self._downloads.get(video_id)
                if task is None:
                    task = self._progress.add_task(f"  {video_id}", total=total, kind="bytes")
                    self._downloads[video_id] = task
                self._progress.update(task, completed=done, total=total)

        return hook
