"""Fixed evaluation lists, written once per bench folder and reused by every method and run.

Same identity: each test clip, its first sampled frame as the source, every sampled frame
(the first 100 in Talking-UB) driven; the metrics are also reported without frame 0.
Cross identity (PTUS): for each test clip, `n` source frames of *other* persons (528 = 33
videos x 16 sources in the paper), drawn with a seed from the clips of `source_splits`;
identities are cycled so a video gets as many different persons as exist.
Far pairs (`far_pairs`, when a protocol selects it): within the held-back tail of each
training clip (`talkingub.bench.holdout`: frames the training loader never draws), seeded
source frames, each driving the held-back frames at least `min_gap_s` seconds away from it;
times (seconds from the clip's start) are recorded with the frames. Seen persons, unseen
frames, large motion: the list on which copying the source scores badly.

A list is added to the file the first time a protocol asks for it; the parameters of a list
already there never change (another value is refused, not overwritten).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from talkingub.bench.data import BuildIndex, ClipRecord
from talkingub.bench.holdout import TRAIN_HOLDOUT, Holdout, frame_time
from talkingub.bench.protocol import FarPairsConfig
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
class FarItem:
    """One source frame of a held-back training-clip tail and the driving frames at least
    `min_gap_s` from it (same clip, same person); times in seconds from the clip's start."""

    item: str
    clip_id: str
    identity: str
    source_frame: int
    driving_frames: tuple[int, ...]
    source_time: float
    driving_times: tuple[float, ...]


@dataclasses.dataclass(frozen=True)
class EvalLists:
    same: tuple[SameItem, ...]
    cross: tuple[CrossItem, ...]
    params: dict[str, Any]
    far: tuple[FarItem, ...] = ()  # present when params has "far_pairs"

    def to_json(self) -> str:
        payload = {
            "version": LISTS_VERSION,
            "params": self.params,
            "same": [dataclasses.asdict(i) for i in self.same],
            "cross": [dataclasses.asdict(i) for i in self.cross],
        }
        if "far_pairs" in self.params:
            payload["far_pairs"] = [dataclasses.asdict(i) for i in self.far]
        return json.dumps(payload, indent=1, sort_keys=True) + "\n"

    @staticmethod
    def from_json(text: str) -> EvalLists:
        data = json.loads(text)
        same = tuple(_item(SameItem, d) for d in data["same"])
        cross = tuple(_item(CrossItem, d) for d in data["cross"])
        far = tuple(_item(FarItem, d) for d in data.get("far_pairs", ()))
        return EvalLists(same, cross, data["params"], far)


def _item(cls: Any, data: dict[str, Any]) -> Any:
    fixed = {k: tuple(v) for k, v in data.items() if k in ("driving_frames", "driving_times")}
    return cls(**{**data, **fixed})


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


def far_pairs(
    clips: list[ClipRecord],
    config: FarPairsConfig,
    seed: int,
    holdout: Holdout = TRAIN_HOLDOUT,
) -> list[FarItem]:
    """Per clip: up to `sources_per_clip` held-back source frames (seeded), each with up to
    `max_driving` held-back driving frames at least `min_gap_s` away (seeded, in time order).
    A clip whose held-back tail is shorter than the gap gives no item."""
    items: list[FarItem] = []
    for clip in clips:
        held = holdout.held_back(clip)
        times = {f: frame_time(clip, f) for f in held}
        partners = {
            s: [d for d in held if abs(times[d] - times[s]) >= config.min_gap_s - 1e-9]
            for s in held
        }
        sources = [s for s in held if partners[s]]
        if not sources:
            continue
        rng = np.random.default_rng([seed, _stable(clip.clip_id), 2])
        picked = sorted(_draw(rng, sources, config.sources_per_clip))
        for k, source in enumerate(picked):
            driving = sorted(_draw(rng, partners[source], config.max_driving))
            items.append(
                FarItem(
                    f"{clip.clip_id}__far{k:02d}",
                    clip.clip_id,
                    clip.identity,
                    source,
                    tuple(driving),
                    round(times[source], 4),
                    tuple(round(times[d], 4) for d in driving),
                )
            )
    return items


def _draw(rng: np.random.Generator, values: list[int], n: int | None) -> list[int]:
    if n is None or n >= len(values):
        return list(values)
    return [values[int(i)] for i in rng.choice(len(values), size=n, replace=False)]


def _stable(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def make_lists(
    index: BuildIndex,
    cross_sources: int,
    source_splits: tuple[str, ...] = ("test",),
    seed: int = 0,
    max_frames: int | None = None,
    far: FarPairsConfig | None = None,
    holdout: Holdout = TRAIN_HOLDOUT,
) -> EvalLists:
    """The same- and cross-identity lists, and the far-pairs list when `far` is given."""
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
    far_items: list[FarItem] = []
    if far is not None:
        params["far_pairs"] = {
            **dataclasses.asdict(far),
            "split": "train",
            "holdout": holdout.record(),
        }
        far_items = far_pairs(index.split("train"), far, seed, holdout)
        if not far_items:
            raise ConfigError(
                f"far_pairs: no training clip of {index.root} has held-back frames "
                f"{far.min_gap_s} s apart (held back: the last {holdout.tail_s} s of each "
                f"clip, at most {holdout.max_fraction:.0%} of it)"
            )
    same = tuple(same_identity(test, max_frames))
    return EvalLists(same, tuple(cross), params, tuple(far_items))


def load_or_make_lists(path: Path, index: BuildIndex, **params: Any) -> EvalLists:
    """Reuse `path` when it was made with the same parameters and build; else write it.

    A file made with other parameters is never overwritten silently: that would change what
    earlier results were measured on. A list the file does not hold yet (far pairs asked for
    the first time) is added to it; one it holds and this run does not ask for is kept.
    """
    fresh = make_lists(index, **params)
    if not path.is_file():
        atomic_write_text(path, fresh.to_json())
        return fresh
    existing = EvalLists.from_json(path.read_text())
    base_old, base_new = _without_far(existing.params), _without_far(fresh.params)
    far_old, far_new = existing.params.get("far_pairs"), fresh.params.get("far_pairs")
    if base_old != base_new or (far_old and far_new and far_old != far_new):
        shown_old = {**base_old, **({"far_pairs": far_old} if far_new and far_old else {})}
        shown_new = {**base_new, **({"far_pairs": far_new} if far_new and far_old else {})}
        raise ConfigError(
            f"{path} was made with {shown_old}, this run asks for {shown_new}; "
            "use another output folder or delete the file"
        )
    if far_new and not far_old:
        merged = dataclasses.replace(
            existing, params={**existing.params, "far_pairs": far_new}, far=fresh.far
        )
        atomic_write_text(path, merged.to_json())
        return merged
    return existing


def _without_far(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k != "far_pairs"}
