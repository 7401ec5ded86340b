"""The few-shot track (Head3D): a model that sees N frames of the source person's video
besides the one source image, on the same evaluation lists as the one-shot methods.

A model is few-shot when its config has `num_ref_frames` N > 0 (`ref_frames_of`); its class
says `track = "few-shot"` (`talkingub.models.base`). The bench then adds to every input:
`source_frames` [B, N, 3, H, W] and, for a config with a `face_size`, their head crops
`source_frames_face` [B, N, 3, S, S] and boxes `source_frames_face_box` [B, N, 4].

Training (`talkingub.bench.data.PairDataset`): N frames of the training pair's clip, drawn
from its training frames (never held-back ones), other than the pair's two frames, with the
pair's flip and colour jitter (with repeats when the clip has fewer).

Evaluation (`pick_subject_frames`): the lists stay those of every method (a listed source
frame and driving frames); the N subject frames of an item come from the source's video
without ever being one of the item's driving frames, filled in this order, each step seeded
by (list seed, item):

1. the source clip's own portion: a training clip's train portion (its frames the training
   loader draws: every sampled frame, or those not held back when the protocol scores far
   pairs, `talkingub.bench.holdout`), a test clip's sampled frames; minus the item's driving
   frames (when the source clip is the driving clip) and the source frame;
2. the rest of the source clip the build did not sample (a test clip, or a training clip
   without a holdout): frames after its last sampled frame on the sampled frames' stride;
3. the same person's other clips in the same split (their portions);
4. nothing found: the source frame itself (N = 1 in effect), counted as a fallback.

The same-identity list drives with a test clip's first `max_frames` sampled frames, so its
subject frames are the clip's later sampled frames (1), or, when every sampled frame drives,
the clip's unsampled rest (2) or the person's other test clips (3). Cross identity: the
source person's clip (1). Far pairs: the training clip's train portion, which never holds a
held-back (driving) frame (1). `summary.json` records N, this rule and the fallbacks per list.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # data.py imports this module
    from talkingub.bench.data import BuildIndex, ClipRecord
    from talkingub.bench.holdout import Holdout

RULE = (
    "source clip's portion (train portion of a training clip, sampled frames of a test clip) "
    "minus the item's driving frames and the source frame; then the clip's unsampled rest; "
    "then the person's other clips in the split; else the source frame"
)


def ref_frames_of(config: Any) -> int:
    """N, the subject frames a model config asks for (Head3D: `num_ref_frames`), else 0."""
    return int(getattr(config, "num_ref_frames", 0) or 0)


@dataclasses.dataclass(frozen=True)
class SubjectFrames:
    """The (clip, frame) pairs of one item's N subject frames, and how they were found."""

    frames: tuple[tuple[str, int], ...]
    level: int  # the last rule step (1-4) that contributed
    fallback: bool  # fewer distinct frames than N (repeats, or the source frame)


def portion(clip: ClipRecord, holdout: Holdout | None) -> list[int]:
    """Step 1's frames of a clip: a training clip's train portion, a test clip's sampled
    frames (only frames with a face box)."""
    frames = holdout.training(clip) if clip.split == "train" and holdout else clip.sampled
    return [f for f in frames if _has_box(clip, f)]


def unsampled_rest(clip: ClipRecord, holdout: Holdout | None) -> list[int]:
    """Step 2: the clip's frames after its last sampled one, on the sampling stride (none for
    a training clip under a holdout: its tail is held back)."""
    if (clip.split == "train" and holdout) or len(clip.sampled) < 2:
        return []
    stride = max(1, int(np.median(np.diff(clip.sampled))))
    total = int(clip.meta.get("n_frames") or 0)
    return [f for f in range(clip.sampled[-1] + stride, total, stride) if _has_box(clip, f)]


def _has_box(clip: ClipRecord, frame: int) -> bool:
    boxes = clip.meta.get("face_boxes") or []
    return 0 <= frame < len(boxes) and boxes[frame] is not None


def pick_subject_frames(
    index: BuildIndex,
    source: tuple[str, int],
    driving_clip: str,
    driving: Sequence[int],
    n: int,
    seed: int,
    holdout: Holdout | None,
) -> SubjectFrames:
    """The N subject frames of an item (module docstring), deterministic in its arguments."""
    clip = index.clips[source[0]]
    banned = {(driving_clip, f) for f in driving} | {source}
    own = [(clip.clip_id, f) for f in portion(clip, holdout)]
    rest = [(clip.clip_id, f) for f in unsampled_rest(clip, holdout)]
    others = [
        (c.clip_id, f)
        for c in index.split(clip.split)
        if c.identity == clip.identity and c.clip_id != clip.clip_id
        for f in portion(c, holdout)
    ]
    rng = np.random.default_rng([seed, _stable(f"{source}|{driving_clip}|{list(driving)}")])
    picked: list[tuple[str, int]] = []
    level = 4
    for step, pool in enumerate((own, rest, others), start=1):
        free = [p for p in pool if p not in banned]
        need = n - len(picked)
        if need <= 0 or not free:
            continue
        chosen = rng.choice(len(free), size=min(need, len(free)), replace=False)
        picked += [free[int(i)] for i in sorted(chosen)]
        level = step
    if not picked:
        return SubjectFrames((source,) * n, 4, True)
    found = list(picked)
    while len(picked) < n:  # repeat the found frames in turn
        picked.append(found[(len(picked) - len(found)) % len(found)])
    return SubjectFrames(tuple(picked), level, len(found) < n)


def _stable(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def training_subject_frames(
    frames: Sequence[int], picks: Sequence[int], n: int, rng: np.random.Generator
) -> list[int]:
    """N frames of a training clip's `frames` other than the pair's `picks` (seeded, with
    repeats when fewer; the first pick when there is no other)."""
    pool = [f for f in frames if f not in set(picks)] or [picks[0]]
    replace = len(pool) < n
    return [pool[int(i)] for i in rng.choice(len(pool), size=n, replace=replace)]
