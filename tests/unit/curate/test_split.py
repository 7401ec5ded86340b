"""Identity-disjoint split: groups, manifest `split` column, and the build-time leak guard."""

from __future__ import annotations

import itertools
import random

import pytest

from talkingub.curate.config import SplitConfig
from talkingub.curate.split import VideoKey, assign_splits, check_disjoint, find_duplicates
from talkingub.errors import ConfigError, SplitLeakError


def key(
    vid: str,
    identity: str | None = None,
    split: str | None = None,
    phashes: tuple[str, ...] = (),
    source: str | None = None,
) -> VideoKey:
    return VideoKey(vid, identity or vid, split, phashes, True, source)


def test_check_disjoint_accepts_a_clean_assignment() -> None:
    videos = [key("a1", "ann"), key("a2", "ann"), key("b", "bob")]
    check_disjoint(videos, {}, {"a1": "test", "a2": "test", "b": "train"})


@pytest.mark.parametrize(
    ("videos", "duplicates", "label"),
    [
        ([key("a1", "ann"), key("a2", "ann")], {}, "identity 'ann'"),
        ([key("x", source="f00d"), key("y", source="f00d")], {}, "source file 'f00d'"),
        ([key("x"), key("y")], {"y": "x"}, "duplicate pair"),
    ],
)
def test_check_disjoint_raises_on_a_hand_made_leak(
    videos: list[VideoKey], duplicates: dict[str, str], label: str
) -> None:
    first, second = (v.video_id for v in videos)
    with pytest.raises(SplitLeakError) as err:
        check_disjoint(videos, duplicates, {first: "train", second: "test"})
    assert label in str(err.value)
    assert first in str(err.value) and second in str(err.value)


def test_manifest_split_is_honoured_for_the_whole_identity_group() -> None:
    """Even where the seeded fill would send every group to test."""
    everything_to_test = SplitConfig(test_fraction=1.0)
    videos = [key("a1", "ann", "train"), key("a2", "ann"), key("a3", "ann"), key("b", "bob")]
    splits = assign_splits(videos, {}, everything_to_test)
    assert splits == {"a1": "train", "a2": "train", "a3": "train", "b": "test"}


def test_manifest_split_reaches_duplicates_and_same_source_files() -> None:
    videos = [
        key("orig", "ann", "test"),
        key("reupload", "uploader"),  # a duplicate of orig
        key("copy", "someone", "test", source="cafe"),
        key("copy2", "else", source="cafe"),  # the same file under another id
    ]
    splits = assign_splits(videos, {"reupload": "orig"}, SplitConfig(test_fraction=0.0))
    assert splits == {"orig": "test", "reupload": "test", "copy": "test", "copy2": "test"}


def test_conflicting_manifest_splits_in_one_group_are_a_clear_error() -> None:
    videos = [key("a1", "ann", "train"), key("a2", "ann", "test"), key("b", "bob", "test")]
    with pytest.raises(ConfigError, match="both splits") as err:
        assign_splits(videos, {}, SplitConfig())
    assert "a1=train" in str(err.value) and "a2=test" in str(err.value)
    assert "b=" not in str(err.value)


def test_conflict_through_a_duplicate_pair_is_an_error_too() -> None:
    videos = [key("a", "ann", "train"), key("b", "bob", "test")]
    with pytest.raises(ConfigError, match="a=train, b=test"):
        assign_splits(videos, {"b": "a"}, SplitConfig())


def test_random_groups_are_always_split_disjointly() -> None:
    rng = random.Random(7)
    for trial in range(20):
        videos = [
            key(f"v{i}", f"p{rng.randrange(6)}", source=f"s{rng.randrange(12)}") for i in range(15)
        ]
        pairs = [(f"v{b}", f"v{a}") for a, b in itertools.combinations(range(15), 2)]
        duplicates = dict(rng.sample(pairs, 3))
        splits = assign_splits(videos, duplicates, SplitConfig(seed=trial, test_fraction=0.3))
        check_disjoint(videos, duplicates, splits)  # the guard agrees with the grouping
        assert set(splits.values()) <= {"train", "test"}


def test_near_duplicates_are_found_by_hash_distance() -> None:
    base = ("0f0f0f0f0f0f0f0f", "00ff00ff00ff00ff", "ffff0000ffff0000")
    flipped = tuple(f"{int(h, 16) ^ 0b111:016x}" for h in base)  # 3 bits apart
    videos = [key("a", phashes=base), key("b", phashes=flipped), key("c", phashes=("1234" * 4,))]
    assert find_duplicates(videos, max_bits=3) == {"b": "a"}
    assert find_duplicates(videos, max_bits=2) == {}


def test_assign_splits_stops_on_a_grouping_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    from talkingub.curate import split

    def no_groups(videos: list[VideoKey], duplicates: dict[str, str]) -> object:
        return split._Groups([v.video_id for v in videos])  # forgets to join the identity

    monkeypatch.setattr(split, "_group", no_groups)
    videos = [key("a1", "ann", "test"), key("a2", "ann")]
    with pytest.raises(SplitLeakError, match="identity 'ann'"):
        assign_splits(videos, {}, SplitConfig(test_fraction=0.0))
