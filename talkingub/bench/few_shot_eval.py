"""The few-shot track's inputs at evaluation: the N subject frames of an item
(`talkingub.bench.few_shot.pick_subject_frames`), decoded, resized and head-cropped like the
source frame, and what summary.json records of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from talkingub.bench.data import (
    BuildIndex,
    crop_faces,
    face_size_of,
    to_tensor,
    to_tensor_resized,
)
from talkingub.bench.few_shot import RULE, SubjectFrames, pick_subject_frames, ref_frames_of
from talkingub.bench.holdout import Holdout


class FewShotInputs:
    """The subject-frame inputs of a few-shot model at evaluation (`of` gives None for a
    one-shot model): decoded, resized and head-cropped like the source frame."""

    def __init__(self, model: Any, seed: int, holdout: Holdout | None) -> None:
        self.model = model
        self.n = ref_frames_of(model.config)
        self.seed = seed
        self.holdout = holdout
        self.index: BuildIndex | None = None

    @classmethod
    def of(cls, model: Any, seed: int, holdout: Holdout | None) -> FewShotInputs | None:
        return cls(model, seed, holdout) if ref_frames_of(model.config) else None

    def pick(self, source: tuple[str, int], clip: str, frames: Sequence[int]) -> SubjectFrames:
        assert self.index is not None
        return pick_subject_frames(
            self.index, source, clip, frames, self.n, self.seed, self.holdout
        )

    def inputs(
        self, store: Any, clip: str, source: tuple[str, int], frames: Sequence[int]
    ) -> dict[str, Any]:
        """`source_frames` [1, N, 3, s, s] (and `source_frames_face`, `..._face_box` for a
        model with a face size) of one item."""
        self.index = store.index
        chosen = self.pick(source, clip, frames).frames
        full = torch.cat([to_tensor(store.frames(c, [f])) for c, f in chosen])
        size, face = int(self.model.config.image_size), face_size_of(self.model.config)
        out = {"source_frames": to_tensor_resized(full, size)[None]}
        if face:
            boxes = torch.cat([torch.from_numpy(store.face_boxes(c, [f])) for c, f in chosen])
            out["source_frames_face"] = crop_faces(full, boxes, face)[None]
            out["source_frames_face_box"] = boxes[None]
        return out

    def record(self, lists: Any, names: Sequence[str]) -> dict[str, Any]:
        """What summary.json says of the subject frames: N, the rule, and per scored list
        its items and those that fell back to fewer than N distinct frames."""
        out: dict[str, Any] = {
            "frames": self.n,
            "rule": RULE,
            "seed": self.seed,
            "holdout": self.holdout.record() if self.holdout else None,
        }
        if self.index is None:
            return out
        items = {"same": lists.same, "cross": lists.cross, "far_pairs": lists.far}
        for name in names:
            picks = [self.pick(*_item_source(item), item.driving_frames) for item in items[name]]
            out[name] = {"items": len(picks), "fallback": sum(p.fallback for p in picks)}
        return out


def _item_source(item: Any) -> tuple[tuple[str, int], str]:
    """(source (clip, frame), driving clip) of a same / cross / far-pairs list item."""
    clip = getattr(item, "source_clip", item.clip_id)
    return (clip, item.source_frame), item.clip_id
