"""The far-pairs list (issue 16): source and driving frames at least `min_gap_s` apart, both
held back from training (the tail of each training clip, which `PairDataset` never draws);
seeded, recorded with frame times, added to an existing list file without changing it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from talkingub.bench.data import ClipRecord, PairDataset, PairSpec
from talkingub.bench.holdout import TRAIN_HOLDOUT, Holdout, frame_time
from talkingub.bench.lists import EvalLists, far_pairs, load_or_make_lists, make_lists
from talkingub.bench.protocol import AugmentConfig, FarPairsConfig
from talkingub.errors import ConfigError


def clip(name: str, identity: str, seconds: float, split: str = "train") -> ClipRecord:
    """A clip at 25 fps sampled at 5 fps (every 5th frame)."""
    n = int(seconds * 25)
    meta = {
        "fps": 25.0,
        "n_frames": n,
        "sampled_frames": list(range(0, n, 5)),
        "face_boxes": [[0.25, 0.25, 0.75, 0.75]] * n,
    }
    return ClipRecord(name, name, identity, split, Path("x.tar"), (0, 0), meta)


TRAIN = [clip("a1", "anna", 12.0), clip("b1", "bob", 6.0), clip("c1", "cleo", 3.0)]
TEST = [clip("t1", "tom", 4.0, split="test"), clip("u1", "uma", 4.0, split="test")]


def test_the_holdout_is_the_tail_of_each_training_clip() -> None:
    assert (TRAIN_HOLDOUT.tail_s, TRAIN_HOLDOUT.max_fraction) == (3.0, 0.5)
    long, short = TRAIN[0], TRAIN[2]
    assert TRAIN_HOLDOUT.start_s(long) == pytest.approx(9.0)  # the last 3 s of 12 s
    assert TRAIN_HOLDOUT.start_s(short) == pytest.approx(1.5)  # at most half of 3 s
    for record in TRAIN:
        held, kept = TRAIN_HOLDOUT.held_back(record), TRAIN_HOLDOUT.training(record)
        assert sorted(held + kept) == record.sampled and not set(held) & set(kept)
        assert max(kept) < min(held)  # a tail, in time
    assert Holdout(tail_s=0).held_back(long) == []


def test_far_pairs_respect_the_gap_and_the_holdout_and_record_times() -> None:
    config = FarPairsConfig(min_gap_s=2.0, sources_per_clip=3, max_driving=4)
    items = far_pairs(TRAIN, config, seed=0)
    # c1 (3 s) holds back its last 1.5 s: no two frames 2 s apart
    assert [i.clip_id for i in items] == ["a1"] * 3 + ["b1"] * 3
    assert len({i.item for i in items}) == 6
    for item in items:
        record = next(c for c in TRAIN if c.clip_id == item.clip_id)
        held = set(TRAIN_HOLDOUT.held_back(record))
        assert item.identity == record.identity
        assert {item.source_frame, *item.driving_frames} <= held
        assert 1 <= len(item.driving_frames) <= 4
        assert item.source_time == pytest.approx(frame_time(record, item.source_frame))
        for frame, seconds in zip(item.driving_frames, item.driving_times, strict=True):
            assert seconds == pytest.approx(frame / 25.0, abs=1e-4)
            assert abs(seconds - item.source_time) >= 2.0 - 1e-6
    assert items == far_pairs(TRAIN, config, seed=0)  # deterministic
    assert items != far_pairs(TRAIN, config, seed=1)  # seeded
    every = far_pairs(
        TRAIN, FarPairsConfig(min_gap_s=1.0, sources_per_clip=99, max_driving=None), 0
    )
    assert {i.clip_id for i in every} == {"a1", "b1", "c1"}
    for item in every:  # every far enough held-back frame drives each source
        record = next(c for c in TRAIN if c.clip_id == item.clip_id)
        expected = [
            f
            for f in TRAIN_HOLDOUT.held_back(record)
            if abs(frame_time(record, f) - item.source_time) >= 1.0 - 1e-9
        ]
        assert list(item.driving_frames) == expected


class PairStore:
    """What PairDataset reads of a ClipStore; records the (clip, frame) pairs it decodes."""

    def __init__(self) -> None:
        clips = TRAIN + TEST
        self.index = type("Index", (), {})()
        self.index.root = Path("fake")
        self.index.split = lambda split: [c for c in clips if c.split == split]
        self.index.clips = {c.clip_id: c for c in clips}
        self.seen: set[tuple[str, int]] = set()

    def frames(self, clip_id: str, indices: list[int]) -> np.ndarray:
        self.seen.update((clip_id, i) for i in indices)
        return np.zeros((len(indices), 8, 8, 3), np.uint8)

    def face_boxes(self, clip_id: str, indices: list[int]) -> np.ndarray:
        return np.tile(np.array([0.25, 0.25, 0.75, 0.75], dtype=np.float32), (len(indices), 1))


def _drawn(holdout: Holdout | None = TRAIN_HOLDOUT) -> set[tuple[str, int]]:
    store = PairStore()
    spec = PairSpec(8, None, AugmentConfig(), seed=0)
    dataset = PairDataset(store, spec, length=120, holdout=holdout)  # type: ignore[arg-type]
    for i in range(len(dataset)):
        dataset[i]
    return store.seen


def test_training_pairs_never_use_held_back_frames() -> None:
    held = {(c.clip_id, f) for c in TRAIN for f in TRAIN_HOLDOUT.held_back(c)}
    kept = {(c.clip_id, f) for c in TRAIN for f in TRAIN_HOLDOUT.training(c)}
    drawn = _drawn()
    assert drawn <= kept and not drawn & held
    assert len(drawn) > len(kept) // 2  # it did draw across the clips
    assert _drawn(holdout=None) & held  # without the holdout the tails are drawn too


class FakeIndex:
    root = Path("fake")

    def split(self, name: str) -> list[ClipRecord]:
        return [c for c in TRAIN + TEST if c.split == name]

    def fingerprint(self) -> str:
        return "sums"


PARAMS: dict[str, Any] = dict(cross_sources=1, source_splits=("test",), seed=0, max_frames=5)


def test_far_pairs_are_added_to_an_existing_list_file_and_then_fixed(tmp_path: Path) -> None:
    path = tmp_path / "eval_lists.json"
    first = load_or_make_lists(path, FakeIndex(), **PARAMS)  # type: ignore[arg-type]
    assert first.far == () and "far_pairs" not in json.loads(path.read_text())
    far = FarPairsConfig()
    second = load_or_make_lists(path, FakeIndex(), **PARAMS, far=far)  # type: ignore[arg-type]
    assert (second.same, second.cross) == (first.same, first.cross)
    assert second.far and second.params["far_pairs"]["min_gap_s"] == 2.0
    assert second.params["far_pairs"]["holdout"] == {"tail_s": 3.0, "max_fraction": 0.5}
    assert EvalLists.from_json(path.read_text()) == second
    # a run that does not ask for far pairs keeps them; another gap is refused
    assert load_or_make_lists(path, FakeIndex(), **PARAMS) == second  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="made with"):
        other = FarPairsConfig(min_gap_s=1.0)
        load_or_make_lists(path, FakeIndex(), **PARAMS, far=other)  # type: ignore[arg-type]


def test_no_far_enough_frames_is_an_error_naming_the_holdout() -> None:
    with pytest.raises(ConfigError, match=r"no training clip .* 9.0 s apart .* last 3.0 s"):
        make_lists(FakeIndex(), **PARAMS, far=FarPairsConfig(min_gap_s=9.0))  # type: ignore[arg-type]


def test_training_holds_frames_back_only_when_far_pairs_are_scored() -> None:
    from talkingub.bench.holdout import TRAIN_HOLDOUT, training_holdout

    assert training_holdout(("same", "cross")) is None  # the paper protocol: every frame trains
    assert training_holdout(("same", "cross", "far_pairs")) is TRAIN_HOLDOUT
