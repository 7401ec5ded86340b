"""Fixed evaluation lists: cross-identity sources never show the driving person, and the
list is the same for every call (methods, runs) and reused from its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from talkingub.bench.data import ClipRecord
from talkingub.bench.lists import EvalLists, cross_identity, load_or_make_lists, same_identity
from talkingub.errors import ConfigError


def clip(name: str, identity: str, n: int = 10, split: str = "test") -> ClipRecord:
    meta = {"sampled_frames": list(range(n)), "face_boxes": [[0, 0, 1, 1]] * n}
    return ClipRecord(name, name, identity, split, Path("x.tar"), (0, 0), meta)


CLIPS = [
    clip("a1", "anna"),
    clip("a2", "anna"),
    clip("b1", "bob"),
    clip("c1", "cleo"),
    clip("d1", "dan", split="train"),
]


def test_cross_sources_are_other_people_and_cycle_identities() -> None:
    items = cross_identity(CLIPS[:4], CLIPS, n=5, seed=0, max_frames=None)
    assert len(items) == 4 * 5
    assert all(i.source_identity != i.identity for i in items)
    for driver in ("a1", "b1"):
        people = [i.source_identity for i in items if i.clip_id == driver][:3]
        assert len(set(people)) == 3  # anna has 3 other people; the first three differ
    assert len({i.item for i in items}) == len(items)


def test_cross_list_is_identical_across_calls_and_depends_on_seed() -> None:
    first = cross_identity(CLIPS[:4], CLIPS, n=3, seed=0, max_frames=4)
    assert first == cross_identity(CLIPS[:4], CLIPS, n=3, seed=0, max_frames=4)
    assert first != cross_identity(CLIPS[:4], CLIPS, n=3, seed=1, max_frames=4)


def test_no_other_person_in_the_pool_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no source person"):
        cross_identity([CLIPS[0]], CLIPS[:2], n=2, seed=0, max_frames=None)


def test_same_identity_drives_every_listed_frame_from_frame_0() -> None:
    items = same_identity(CLIPS[:2], max_frames=6)
    assert [i.source_frame for i in items] == [0, 0]
    assert all(i.driving_frames == tuple(range(6)) for i in items)


class FakeIndex:
    root = Path("fake")

    def __init__(self, fingerprint: str = "sums") -> None:
        self._fingerprint = fingerprint

    def split(self, name: str) -> list[ClipRecord]:
        return [c for c in CLIPS if c.split == name]

    def fingerprint(self) -> str:
        return self._fingerprint


def test_list_file_is_written_once_reused_and_guarded(tmp_path: Path) -> None:
    path = tmp_path / "eval_lists.json"
    params = dict(cross_sources=2, source_splits=("test",), seed=0, max_frames=5)
    made = load_or_make_lists(path, FakeIndex(), **params)  # type: ignore[arg-type]
    text = path.read_text()
    again = load_or_make_lists(path, FakeIndex(), **params)  # type: ignore[arg-type]
    assert again == made == EvalLists.from_json(text)
    assert path.read_text() == text
    with pytest.raises(ConfigError, match="made with"):
        load_or_make_lists(path, FakeIndex("other build"), **params)  # type: ignore[arg-type]
