"""Which frames each person-specific model trains on, and its training windows.

The person-specific track (`talkingub.bench.person_specific`) trains one model per person the
evaluation lists need: the person of every same-identity item (the test identities) and the
source person of every cross-identity item (the test identities, plus the training
identities when `evaluation.cross_source_splits` includes `train`). A model of person P
trains on P's own clips (any split), on every clip frame (the mp4s hold them all, not only
the sampled ones) except:

- every frame any evaluation list of this bench folder names for P's clips (driving frames
  of same-identity and far-pair items, source frames, the frames P drives in cross-identity
  items) and every sampled frame of P's test clips (the frames the build sets aside for
  evaluation, listed or not);
- every frame less than `gap_s` seconds from one of those (`person_specific.gap_s`), so
  no trained frame is a near-copy of a scored one;
- the held-back tails of training clips when the protocol scores far pairs
  (`talkingub.bench.holdout`).

On Talking-UB a test video's first 100 frames are its evaluation frames; its model trains on
the rest of the video from `gap_s` after them. A training window is L + 1 consecutive
clip frames, all of them training frames; no augmentation (the person's appearance is
what the model learns). A person left without a window is refused, naming it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from talkingub.bench.data import BuildIndex, ClipRecord, ClipStore, PairSpec, to_tensor
from talkingub.bench.holdout import Holdout, clip_fps
from talkingub.bench.lists import EvalLists
from talkingub.bench.pose_track import PoseTrack
from talkingub.errors import ConfigError

# (clip id, its training frames): what one person's model trains on
PersonFrames = tuple[tuple[str, tuple[int, ...]], ...]


@dataclasses.dataclass(frozen=True)
class PersonPlan:
    """One person's model: its training frames and how many frames of its clips were kept
    out (the scored ones and their `gap_s` neighbourhoods)."""

    identity: str
    frames: PersonFrames
    excluded: int

    @property
    def count(self) -> int:
        return sum(len(f) for _, f in self.frames)

    def record(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "train_frames": self.count,
            "excluded_frames": self.excluded,
            "clips": {clip: _ranges(frames) for clip, frames in self.frames},
        }


def persons_needed(lists: EvalLists) -> list[str]:
    """The identities whose models the lists use: same-identity persons, cross sources."""
    found = [i.identity for i in lists.same] + [i.source_identity for i in lists.cross]
    return sorted(set(found))


def used_frames(index: BuildIndex, lists: EvalLists) -> dict[str, set[int]]:
    """clip id -> every frame the lists name for it, and every sampled frame of a test clip."""
    used: dict[str, set[int]] = {}

    def add(clip: str, frames: Iterable[int]) -> None:
        used.setdefault(clip, set()).update(int(f) for f in frames)

    for same in lists.same:
        add(same.clip_id, [same.source_frame, *same.driving_frames])
    for cross in lists.cross:
        add(cross.clip_id, cross.driving_frames)
        add(cross.source_clip, [cross.source_frame])
    for far in lists.far:
        add(far.clip_id, [far.source_frame, *far.driving_frames])
    for clip in index.clips.values():
        if clip.split == "test":
            add(clip.clip_id, clip.sampled)
    return used


def plan_person(
    index: BuildIndex,
    identity: str,
    used: dict[str, set[int]],
    gap_s: float,
    window: int,
    holdout: Holdout | None = None,
) -> PersonPlan:
    """The training frames of `identity`'s model (module docstring)."""
    frames: list[tuple[str, tuple[int, ...]]] = []
    excluded = 0
    for clip in sorted(index.clips.values(), key=lambda c: c.clip_id):
        if clip.identity != identity:
            continue
        total = int(clip.meta.get("n_frames") or (max(clip.sampled, default=-1) + 1))
        kept = _free_frames(clip, total, used.get(clip.clip_id, set()), gap_s, holdout)
        excluded += total - len(kept)
        if kept:
            frames.append((clip.clip_id, tuple(kept)))
    plan = PersonPlan(identity, tuple(frames), excluded)
    if not window_starts(plan.frames, window):
        raise ConfigError(
            f"person-specific: {identity!r} has no {window} consecutive frames to train on "
            f"outside its evaluated frames (and {gap_s} s around them): its clips are too "
            "short; lower person_specific.gap_s or add footage of this person"
        )
    return plan


def _free_frames(
    clip: ClipRecord, total: int, used: set[int], gap_s: float, holdout: Holdout | None
) -> list[int]:
    gap = gap_s * clip_fps(clip)
    marks = np.asarray(sorted(used), dtype=np.float64)
    kept = []
    for frame in range(total):
        if marks.size and np.min(np.abs(marks - frame)) <= gap:
            continue
        if holdout is not None and holdout.is_held_back(clip, frame):
            continue
        kept.append(frame)
    return kept


def window_starts(frames: PersonFrames, window: int) -> list[tuple[str, int]]:
    """(clip, first frame) of every run of `window` consecutive training frames."""
    starts = []
    for clip, kept in frames:
        present = set(kept)
        starts += [(clip, f) for f in kept if all(f + k in present for k in range(window))]
    return starts


def _ranges(frames: tuple[int, ...]) -> list[list[int]]:
    """[[first, last], ...] of the consecutive runs of `frames` (sorted)."""
    runs: list[list[int]] = []
    for f in frames:
        if runs and f == runs[-1][1] + 1:
            runs[-1][1] = f
        else:
            runs.append([f, f])
    return runs


class PersonWindows(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    """Item i: a seeded window of `window` consecutive training frames of one person (any
    clip), resized to the model's size, with their poses and face boxes
    (`talkingub.bench.pose_track`). Depends only on (seed, i), as `PairDataset`."""

    def __init__(
        self, store: ClipStore, spec: PairSpec, length: int, frames: PersonFrames, window: int
    ) -> None:
        self.store, self.spec, self.length, self.window = store, spec, length, window
        self.starts = window_starts(frames, window)
        if not self.starts:
            raise ConfigError(f"no {window} consecutive training frames in {frames[:1]}")
        self.track = PoseTrack(store.index)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.spec.seed, 2_000_003, int(index)])
        clip, first = self.starts[int(rng.integers(len(self.starts)))]
        frames = list(range(first, first + self.window))
        images = to_tensor(self.store.frames(clip, frames), self.spec.image_size)
        return {
            "window": images,
            "window_pose": torch.from_numpy(self.track.pose(clip, frames)),
            "window_face_box": torch.from_numpy(self.track.face_boxes(clip, frames)),
        }
