"""Fixed evaluation lists, written once per bench folder and reused by every method and run.

Same identity: each test clip, its first sampled frame as the source, every sampled frame
(the first 100 in Talking-UB) driven; the metrics are also reported without frame 0.
Cross identity (PTUS): for each test clip, `n` source frames of *other* persons (528 = 33
videos x 16 sources in the paper), drawn with a seed from the clips of `source_splits`;
identities are cycled so a video gets as many different persons as exist.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from talkingub.bench.data import BuildIndex, ClipRecord
from talkingub.errors import ConfigError
from talkingub.io.atomic import atomic_write_text

LISTS_VERSION = 1


@dataclasses.dataclass(frozen=True)
class SameItem:
    item: str
    clip_id: str
    identity: str
    source_frame: int
    driving_frames: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class CrossItem:
    item: str
    clip_id: str  # driving clip
    identity: str  # driving identity
    driving_frames: tuple[int, ...]
    source_clip: str
    source_identity: str
    source_frame: int


@dataclasses.dataclass(frozen=True)
class EvalLists:
    same: tuple[SameItem, ...]
    cross: tuple[CrossItem, ...]
    params: dict[str, Any]

    def to_json(self) -> str:
        payload = {
            "version": LISTS_VERSION,
            "params": self.params,
            "same": [dataclasses.asdict(i) for i in self.same],
            "cross": [dataclasses.asdict(i) for i in self.cross],
        }
        return json.dumps(payload, indent=1, sort_keys=True) + "\n"

    @staticmethod
    def from_json(text: str) -> EvalLists:
        data = json.loads(text)
        same = tuple(_item(SameItem, d) for d in data["same"])
        cross = tuple(_item(CrossItem, d) for d in data["cross"])
        return EvalLists(same, cross, data["params"])


def _item(cls: Any, data: dict[str, Any]) -> Any:
    return cls(**{**data, "driving_frames": tuple(data["driving_frames"])})


def same_identity(clips: list[ClipRecord], max_frames: int | None) -> list[SameItem]:
    items = []
    for clip in clips:
        frames = clip.sampled[:max_frames] if max_frames else clip.sampled
        items.append(SameItem(clip.clip_id, clip.clip_id, clip.identity, frames[0], tuple(frames)))
    return items


def cross_identity(
    drivers: list[ClipRecord], pool: list[ClipRecord], n: int, seed: int, max_frames: int | None
) -> list[CrossItem]:
    items: list[CrossItem] = []
    for clip in drivers:
        others = sorted({c.identity for c in pool if c.identity != clip.identity})
        if not others:
            raise ConfigError(
                f"cross identity: no source person other than {clip.identity!r} in the pool; "
                "add splits to evaluation.cross_source_splits"
            )
        rng = np.random.default_rng([seed, _stable(clip.clip_id)])
        order = [others[i] for i in rng.permutation(len(others))]
        frames = clip.sampled[:max_frames] if max_frames else clip.sampled
        for k in range(n):
            source = _pick_source(pool, order[k % len(order)], rng)
            items.append(
                CrossItem(
                    f"{clip.clip_id}__x{k:02d}",
                    clip.clip_id,
                    clip.identity,
                    tuple(frames),
                    source[0].clip_id,
                    source[0].identity,
                    source[1],
                )
            )
    return items


def _pick_source(
    pool: list[ClipRecord], identity: str, rng: np.random.Generator
) -> tuple[ClipRecord, int]:
    candidates = [c for c in pool if c.identity == identity]
    clip = candidates[int(rng.integers(len(candidates)))]
    return clip, clip.sampled[int(rng.integers(len(clip.sampled)))]


def _stable(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def make_lists(
    index: BuildIndex,
    cross_sources: int,
    source_splits: tuple[str, ...] = ("test",),
    seed: int = 0,
    max_frames: int | None = None,
) -> EvalLists:
    test = index.split("test")
    if not test:
        raise ConfigError(f"no test clips in {index.root}")
    pool = [c for split in source_splits for c in index.split(split)]
    params = {
        "cross_sources": cross_sources,
        "source_splits": list(source_splits),
        "seed": seed,
        "max_frames": max_frames,
        "build": hashlib.sha256(index.fingerprint().encode()).hexdigest()[:16],
    }
    cross = cross_identity(test, pool, cross_sources, seed, max_frames) if cross_sources else []
    return EvalLists(tuple(same_identity(test, max_frames)), tuple(cross), params)


def load_or_make_lists(path: Path, index: BuildIndex, **params: Any) -> EvalLists:
    """Reuse `path` when it was made with the same parameters and build; else write it.

    A file made with other parameters is never overwritten silently: that would change what
    earlier results were measured on.
    """
    fresh = make_lists(index, **params)
    if path.is_file():
        existing = EvalLists.from_json(path.read_text())
        if existing.params != fresh.params:
            raise ConfigError(
                f"{path} was made with {existing.params}, this run asks for {fresh.params}; "
                "use another output folder or delete the file"
            )
        return existing
    atomic_write_text(path, fresh.to_json())
    return fresh
