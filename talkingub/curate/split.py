"""Duplicates, identity-disjoint train/test split, and frame sampling.

Videos are grouped by identity, by source file (the same content hash under two ids) and by
near-duplicate content (difference hashes of evenly spaced frames), so neither a person nor a
re-upload of the same footage ends up in both splits. A `split` column in the manifest is
honoured for the whole group; other groups are ordered by a seeded hash and the first ones go
to test until `test_fraction` is reached. The finished assignment is checked again
(`check_disjoint`), so a grouping bug stops the build instead of leaking into the split.
"""

from __future__ import annotations

import dataclasses
import hashlib

from talkingub.curate.config import SplitConfig
from talkingub.errors import ConfigError, SplitLeakError


@dataclasses.dataclass(frozen=True)
class VideoKey:
    video_id: str
    identity: str
    manifest_split: str | None
    phashes: tuple[str, ...]
    has_kept: bool
    source: str | None = None  # content hash of the source file


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def is_duplicate(
    a: tuple[str, ...], b: tuple[str, ...], max_bits: int, share: float = 0.75
) -> bool:
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if not short:
        return False
    hits = sum(1 for h in short if min(hamming(h, g) for g in long_) <= max_bits)
    return hits >= share * len(short)


class _Groups:
    def __init__(self, items: list[str]) -> None:
        self.parent = {i: i for i in items}

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: str, b: str) -> None:
        ra, rb = sorted((self.find(a), self.find(b)))
        self.parent[rb] = ra


def find_duplicates(videos: list[VideoKey], max_bits: int) -> dict[str, str]:
    """video_id -> the id of the earlier video it duplicates."""
    found: dict[str, str] = {}
    for i, a in enumerate(videos):
        for b in videos[i + 1 :]:
            if b.video_id not in found and is_duplicate(a.phashes, b.phashes, max_bits):
                found[b.video_id] = found.get(a.video_id, a.video_id)
    return found


def assign_splits(
    videos: list[VideoKey], duplicates: dict[str, str], config: SplitConfig
) -> dict[str, str]:
    """video_id -> train | test (every video, kept clips or not)."""
    groups = _group(videos, duplicates)
    members: dict[str, list[VideoKey]] = {}
    for v in videos:
        members.setdefault(groups.find(v.video_id), []).append(v)
    fixed = {root: _fixed_split(vs) for root, vs in members.items()}
    free = sorted(
        (r for r, s in fixed.items() if s is None),
        key=lambda r: hashlib.sha256(f"{config.seed}:{r}".encode()).hexdigest(),
    )
    fixed.update(_fill(free, members, fixed, config.test_fraction))
    splits = {v.video_id: fixed[groups.find(v.video_id)] or "train" for v in videos}
    check_disjoint(videos, duplicates, splits)
    return splits


def check_disjoint(
    videos: list[VideoKey], duplicates: dict[str, str], splits: dict[str, str]
) -> None:
    """Raise SplitLeakError when an identity, a source file or a duplicate pair spans splits."""
    _check_one("identity", {v.video_id: v.identity for v in videos}, splits)
    _check_one("source file", {v.video_id: v.source for v in videos if v.source}, splits)
    for dup, original in sorted(duplicates.items()):
        if splits[dup] != splits[original]:
            raise SplitLeakError(
                f"duplicate pair in both splits: {dup} ({splits[dup]}) duplicates "
                f"{original} ({splits[original]})"
            )


def _check_one(label: str, value_of: dict[str, str], splits: dict[str, str]) -> None:
    seen: dict[str, dict[str, list[str]]] = {}
    for video_id, value in sorted(value_of.items()):
        seen.setdefault(value, {}).setdefault(splits[video_id], []).append(video_id)
    for value, by_split in seen.items():
        if len(by_split) > 1:
            where = "; ".join(f"{s}: {', '.join(ids)}" for s, ids in sorted(by_split.items()))
            raise SplitLeakError(f"{label} {value!r} is in both splits ({where})")


def _group(videos: list[VideoKey], duplicates: dict[str, str]) -> _Groups:
    groups = _Groups([v.video_id for v in videos])
    by_identity: dict[str, str] = {}
    for v in videos:
        first = by_identity.setdefault(v.identity, v.video_id)
        groups.join(first, v.video_id)
    by_source: dict[str, str] = {}
    for v in videos:
        if v.source:
            groups.join(by_source.setdefault(v.source, v.video_id), v.video_id)
    for dup, original in duplicates.items():
        groups.join(dup, original)
    return groups


def _fixed_split(videos: list[VideoKey]) -> str | None:
    splits = {v.manifest_split for v in videos if v.manifest_split}
    if len(splits) > 1:
        names = ", ".join(
            sorted(f"{v.video_id}={v.manifest_split}" for v in videos if v.manifest_split)
        )
        raise ConfigError(f"manifest puts one identity/duplicate group in both splits: {names}")
    return splits.pop() if splits else None


def _fill(
    free: list[str],
    members: dict[str, list[VideoKey]],
    fixed: dict[str, str | None],
    fraction: float,
) -> dict[str, str]:
    useful = [r for r in members if any(v.has_kept for v in members[r])]
    target = max(1, round(fraction * len(useful))) if len(useful) >= 2 else 0
    have = sum(1 for r in useful if fixed[r] == "test")
    out = {}
    for root in free:
        wanted = have < target and any(v.has_kept for v in members[root])
        out[root] = "test" if wanted else "train"
        have += wanted
    return out


def sample_train(n_frames: int, fps: float, rate: float) -> list[int]:
    """Clip-relative frame indices at `rate` fps: the first frame of every 1/rate s bin."""
    picked, last_bin = [], -1
    for i in range(n_frames):
        b = int(i * rate / fps + 1e-9)
        if b != last_bin:
            picked.append(i)
            last_bin = b
    return picked


def sample_test(clip_lengths: list[int], limit: int) -> list[list[int]]:
    """The first `limit` frames of a test video, spread over its clips in order."""
    out, left = [], limit
    for n in clip_lengths:
        take = max(0, min(n, left))
        out.append(list(range(take)))
        left -= take
    return out
