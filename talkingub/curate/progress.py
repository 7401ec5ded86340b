"""Rich progress of the processing pass: the videos bar, and below it one bar per video being
processed with its current stage (decode + shots, analysis, crop + encode), frames done /
total and a labelled ETA. The videos bar moves with the stages too: it counts finished videos
plus how far each running one is (`StageEvent.fraction`), so it moves soon after the start."""

from __future__ import annotations

from rich.progress import TaskID

from talkingub.curate.stages import StageEvent
from talkingub.progress import TaskBars

NAME_WIDTH = 24  # a longer video id is shortened in its bar's label


class BuildProgress(TaskBars):
    def __init__(self, total: int, enabled: bool = True) -> None:
        super().__init__(enabled=enabled)
        self._task = self.add("process videos", total=total, unit="videos")
        self._finished = 0
        self._running: dict[str, tuple[TaskID, str]] = {}  # video id -> its bar, its stage
        self._share: dict[str, float] = {}  # video id -> how far it is (0..1)

    def stage(self, event: StageEvent) -> None:
        """A stage event from a worker: the video's bar shows it."""
        label = f"  {_short(event.video_id)} {event.stage}"
        known = self._running.get(event.video_id)
        if known is None:
            task = self.add(label, total=event.total, unit="frames")
            self.update(task, completed=event.done)
        elif known[1] != event.stage:  # a new stage: its own count and ETA
            task = known[0]
            self._progress.reset(task, total=event.total, completed=event.done, description=label)
        else:
            task = known[0]
            self.update(task, completed=event.done, total=event.total)
        self._running[event.video_id] = (task, event.stage)
        self._share[event.video_id] = event.fraction()
        self._move()

    def video_done(self, video_id: str, reason: str | None) -> None:
        known = self._running.pop(video_id, None)
        if known is not None:
            self.remove(known[0])
        self._share.pop(video_id, None)
        self._finished += 1
        self._move()
        if reason:
            self.log(f"{video_id}: {reason}")

    def _move(self) -> None:
        self.update(self._task, completed=self._finished + sum(self._share.values()))


def _short(video_id: str) -> str:
    if len(video_id) <= NAME_WIDTH:
        return video_id
    return video_id[: NAME_WIDTH - 1] + "…"
