"""Rich progress bar over videos for the processing pass."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from talkingub.progress import ProgressBars


class BuildProgress(ProgressBars):
    def __init__(self, total: int, enabled: bool = True) -> None:
        super().__init__(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            enabled=enabled,
        )
        self._task = self._progress.add_task("process videos", total=total)

    def video_done(self, video_id: str, reason: str | None) -> None:
        self._progress.advance(self._task)
        if reason:
            self.log(f"{video_id}: {reason}")
