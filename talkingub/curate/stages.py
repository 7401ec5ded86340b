"""Progress inside one video: the per-video unit reports its stages (decode + shots, analysis,
crop + encode) as `StageEvent`s through a listener, a no-op when nobody listens.

In the build the listener is `talkingub.curate.executors.emit`, which carries each event from
the worker to the parent's bars (`talkingub.curate.progress.BuildProgress`). A
`StageReporter` sends at most one event per `interval` seconds per stage, plus the first and
the last of each stage, so a fast loop costs nothing noticeable.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

STAGES = ("decode", "analysis", "encode")
# share of a video's time each stage takes, roughly (the overall bar's fractional progress)
WEIGHTS = {"decode": 0.2, "analysis": 0.6, "encode": 0.2}


@dataclasses.dataclass(frozen=True)
class StageEvent:
    video_id: str
    stage: str  # one of STAGES
    done: int  # frames done in this stage
    total: int | None  # frames in this stage; None while unknown

    def fraction(self) -> float:
        """How far the whole video is (0..1), from the stage weights."""
        before = sum(WEIGHTS[s] for s in STAGES[: STAGES.index(self.stage)])
        part = min(1.0, self.done / self.total) if self.total else 0.0
        return before + WEIGHTS[self.stage] * part


Listener = Callable[[StageEvent], None]
Tick = Callable[[int, int | None], None]  # (frames done, total) of the current stage


def no_listener(event: StageEvent) -> None:
    """The default listener: nobody is listening."""


class StageReporter:
    """Reports one video's stages to `listener`, throttled to one event per `interval` s."""

    def __init__(self, video_id: str, listener: Listener = no_listener, interval: float = 0.25):
        self.video_id = video_id
        self.listener = listener
        self.interval = interval

    def stage(self, name: str, total: int | None = None) -> Tick:
        """Start stage `name` (an event at 0) and return its `tick(done, total)`."""
        if name not in STAGES:
            raise ValueError(f"unknown stage {name!r}")
        last = [time.monotonic()]
        self.listener(StageEvent(self.video_id, name, 0, total))

        def tick(done: int, total: int | None = total) -> None:
            now = time.monotonic()
            if now - last[0] < self.interval and done != total:
                return
            last[0] = now
            self.listener(StageEvent(self.video_id, name, done, total))

        return tick
