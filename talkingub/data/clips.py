"""`TalkingUBClips`: a PyTorch dataset of a build's kept clips (frames decoded with PyAV)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from talkingub.bench.data import BuildIndex, ClipRecord, ClipStore, to_tensor
from talkingub.errors import ConfigError

SPLITS = ("train", "test")
FRAME_SETS = ("sampled", "all")

Item = dict[str, Any]


class TalkingUBClips(torch.utils.data.Dataset[Item]):
    """Item i: the i-th kept clip of `split` (sorted by clip id), a dict of

    - `frames`: float32 tensor [T, 3, H, W], RGB in [0, 1]; H = W = 256 (the shard's mp4)
      or `size` (antialiased bilinear resize);
    - `face_boxes`: float32 tensor [T, 4], the face box of each returned frame, x0, y0, x1,
      y1 normalised to the frame (0-1): the build's face track, interpolated between the
      analysed frames; a NaN row where the sample records no box (null in its JSON);
    - `frame_index`: int64 tensor [T], the clip frame numbers of the returned frames;
    - `clip_id`, `video_id`, `identity` (str), `fps` (float, of the clip).

    `frames="sampled"` returns the frames the build sampled (`sampled_frames` of the shard
    sample, `sampled` rows of frames.parquet: what the bench trains and scores on);
    `frames="all"` every frame of the clip (its `n_frames`). `transform`, when given, maps
    the item dict to the item returned (applied last; in a multi-worker DataLoader it must
    be picklable).

    Items of different clips differ in T: batch with `batch_size=None` (or 1), or a
    `collate_fn` of your own. The dataset holds no open file or PyAV container: each process
    (each DataLoader worker) opens the shards when it first reads an item.
    """

    def __init__(
        self,
        path: str | Path,
        split: Literal["train", "test"] = "train",
        frames: Literal["sampled", "all"] = "sampled",
        size: int | None = None,
        transform: Callable[[Item], Item] | None = None,
    ) -> None:
        if split not in SPLITS:
            raise ConfigError(f"split must be one of {list(SPLITS)}, got {split!r}")
        if frames not in FRAME_SETS:
            raise ConfigError(f"frames must be one of {list(FRAME_SETS)}, got {frames!r}")
        if size is not None and size < 1:
            raise ConfigError(f"size must be a positive number of pixels, got {size}")
        self.index = BuildIndex(path)
        self.clips: list[ClipRecord] = self.index.split(split)
        self.split, self.frame_set, self.size, self.transform = split, frames, size, transform
        self._store: ClipStore | None = None  # opened lazily, per process

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> Item:
        clip = self.clips[index]
        wanted = self.frame_indices(clip)
        frames = self._frames().frames(clip.clip_id, wanted)
        item: Item = {
            "frames": to_tensor(frames, self.size),
            "face_boxes": torch.from_numpy(face_boxes(clip, wanted)),
            "frame_index": torch.tensor(wanted, dtype=torch.int64),
            "clip_id": clip.clip_id,
            "video_id": clip.video_id,
            "identity": clip.identity,
            "fps": float(clip.meta["fps"]),
        }
        return self.transform(item) if self.transform is not None else item

    def __iter__(self) -> Iterator[Item]:
        """The items in order (one process; use a DataLoader for workers)."""
        for index in range(len(self)):
            yield self[index]

    def frame_indices(self, clip: ClipRecord) -> list[int]:
        """The clip frame numbers an item of `clip` holds."""
        if self.frame_set == "sampled":
            return clip.sampled
        return list(range(int(clip.meta["n_frames"])))

    def _frames(self) -> ClipStore:
        if self._store is None:
            # caches only the clip read last: an item is decoded once per epoch
            self._store = ClipStore(self.index, max_frames=0)
        return self._store

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_store"] = None  # decoded frames stay in the process that decoded them
        return state


def face_boxes(clip: ClipRecord, indices: list[int]) -> np.ndarray:
    """float32 [len(indices), 4] face boxes (x0, y0, x1, y1 in 0-1) of clip frames
    `indices`; NaN rows where the shard sample records none."""
    boxes = clip.meta["face_boxes"]
    rows = [boxes[i] if boxes[i] is not None else [np.nan] * 4 for i in indices]
    return np.asarray(rows, dtype=np.float32).reshape(-1, 4)
