"""The bench's held-back frames of the training clips.

A `talkingub build` splits by identity (train and test persons are disjoint) and keeps no
clips of a training person aside, so a protocol that scores the `far_pairs` list holds some
back itself: the sampled frames in the last `min(tail_s, max_fraction x duration)` seconds
of every training clip. The training loader (`PairDataset`) then never draws them; the
`far_pairs` evaluation list (`talkingub.bench.lists`) draws its pairs from them only, so it
measures seen persons in frames the model has not seen.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from talkingub.bench.data import ClipRecord


@dataclasses.dataclass(frozen=True)
class Holdout:
    tail_s: float = 3.0  # seconds held back at the end of each training clip ...
    max_fraction: float = 0.5  # ... but never more than this share of the clip

    def __post_init__(self) -> None:
        if self.tail_s < 0 or not 0 <= self.max_fraction <= 1:
            raise ValueError(f"holdout: tail_s >= 0 and 0 <= max_fraction <= 1, got {self}")

    def start_s(self, clip: ClipRecord) -> float:
        """Clip time (seconds) from which on frames are held back."""
        duration = clip_duration(clip)
        return duration - min(self.tail_s, self.max_fraction * duration)

    def is_held_back(self, clip: ClipRecord, frame: int) -> bool:
        return (
            self.tail_s > 0
            and self.max_fraction > 0
            and frame_time(clip, frame) >= self.start_s(clip)
        )

    def held_back(self, clip: ClipRecord) -> list[int]:
        """The clip's sampled frames the training loader never sees."""
        return [f for f in clip.sampled if self.is_held_back(clip, f)]

    def training(self, clip: ClipRecord) -> list[int]:
        """The clip's sampled frames training pairs are drawn from."""
        return [f for f in clip.sampled if not self.is_held_back(clip, f)]

    def record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# The holdout of a bench run that scores the far-pairs list: training never sees these frames.
TRAIN_HOLDOUT = Holdout()


def training_holdout(lists: tuple[str, ...] | list[str]) -> Holdout | None:
    """What training keeps out under a protocol scoring `lists`: `TRAIN_HOLDOUT` when the
    far-pairs list is among them, else None (every sampled frame of a training clip trains,
    as in the paper protocol: the build itself splits by identity)."""
    return TRAIN_HOLDOUT if "far_pairs" in lists else None


def clip_fps(clip: ClipRecord) -> float:
    return float(clip.meta.get("fps") or 25.0)


def frame_time(clip: ClipRecord, frame: int) -> float:
    """Seconds from the clip's first frame."""
    return frame / clip_fps(clip)


def clip_duration(clip: ClipRecord) -> float:
    frames = clip.meta.get("n_frames")
    last = int(frames) if frames else max(clip.sampled, default=-1) + 1
    return last / clip_fps(clip)
