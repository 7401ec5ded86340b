"""`TalkingUBPairs`: source/driving training pairs of a build, as `talkingub bench` trains
on them (`talkingub.bench.data.PairDataset`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from talkingub.bench.data import BuildIndex, ClipStore, PairDataset, PairSpec
from talkingub.bench.protocol import AugmentConfig
from talkingub.errors import ConfigError

NO_AUGMENT = AugmentConfig(
    horizontal_flip=False, time_flip=False, brightness=0.0, contrast=0.0, saturation=0.0, hue=0.0
)


class TalkingUBPairs(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    """Item i: two sampled frames of one training clip, as the bench's training loader
    draws them: videos in a seeded permutation per epoch (each video equally often), never a
    frame of a clip's held-back tail (`talkingub.bench.holdout`). Pair i depends only on
    (`seed`, i), so any worker count or order gives the same items.

    Item: `source`, `driving`: float32 [3, image_size, image_size], RGB in [0, 1]; with
    `face_size`, also `source_face`, `driving_face` (float32 [3, face_size, face_size] crops
    of the face boxes) and `source_face_box`, `driving_face_box` (float32 [4], x0, y0, x1, y1
    normalised to the frame).

    `augment`: False: none; True: the protocol's default augmentations (`AugmentConfig()`:
    horizontal flip, source/driving swap, colour jitter, the same draw for both frames);
    or an `AugmentConfig`. `length`: the number of items (None: one epoch, each training
    video once). Holds no open file: each process opens the shards when it first reads.
    """

    def __init__(
        self,
        path: str | Path,
        image_size: int = 256,
        face_size: int | None = None,
        seed: int = 0,
        length: int | None = None,
        augment: bool | AugmentConfig = False,
    ) -> None:
        if image_size < 1 or (face_size is not None and face_size < 1):
            raise ConfigError(
                f"image_size and face_size must be positive: {image_size}, {face_size}"
            )
        if length is not None and length < 0:
            raise ConfigError(f"length must be >= 0, got {length}")
        if isinstance(augment, AugmentConfig):
            chosen = augment
        else:
            chosen = AugmentConfig() if augment else NO_AUGMENT
        self.spec = PairSpec(image_size=image_size, face_size=face_size, augment=chosen, seed=seed)
        self.index = BuildIndex(path)
        pairs = PairDataset(ClipStore(self.index), self.spec, length=0)  # refuses no pairs
        self.length = len(pairs.video_ids) if length is None else length
        pairs.length = self.length
        self._pairs: PairDataset | None = pairs

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not 0 <= index < self.length:
            raise IndexError(f"pair {index} out of range ({self.length} pairs)")
        if self._pairs is None:
            self._pairs = PairDataset(ClipStore(self.index), self.spec, length=self.length)
        return self._pairs[index]

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        """The pairs in order (one process; use a DataLoader for workers)."""
        for index in range(len(self)):
            yield self[index]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_pairs"] = None  # its frame cache stays in the process that decoded it
        return state
