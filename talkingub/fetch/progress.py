"""Rich progress for the fetch stage: one bar over rows, one transient bar per download."""

from __future__ import annotations

import threading
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from talkingub.progress import ProgressBars


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


class FetchProgress(ProgressBars):
    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        super().__init__(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            _AmountColumn(),
            TimeRemainingColumn(),
            enabled=enabled,
            console=console,
        )
        self._lock = threading.Lock()
        self._downloads: dict[str, TaskID] = {}
        self._rows: TaskID | None = None

    def start(self, total: int) -> None:
        self._rows = self._progress.add_task("fetch", total=total, kind="rows")

    def row_done(self, video_id: str, outcome: str) -> None:
        with self._lock:
            task = self._downloads.pop(video_id, None)
            if task is not None:
                self._progress.remove_task(task)
            if self._rows is not None:
                self._progress.advance(self._rows)
        if not outcome.startswith("ok"):
            self.log(f"{video_id}: {outcome}")

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
