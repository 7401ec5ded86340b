"""Exported names: `<id>#<clip_id>`, the id file-safe and never a prefix of another id; the
export presets named after training code."""

from __future__ import annotations

import fnmatch
import itertools

import pytest

from talkingub.curate.export import entry_name, export_id
from talkingub.errors import ConfigError


def test_ids_are_safe_distinct_and_prefix_free() -> None:
    identities = ["ab", "abc", "ab~", "a b", "a%20b", "a#b", ".hidden", "é", "x/y", "*", "a" * 300]
    ids = [export_id(i) for i in identities]
    assert len(set(ids)) == len(ids)
    for identity, id_ in zip(identities, ids):
        assert id_.endswith("~") and id_.count("~") == 1
        assert not set(id_) & set("#/*?[] ") and not id_.startswith(".")
        assert len(id_) <= 65
        assert entry_name(identity, "v1-s000-f000000").split("#") == [id_, "v1-s000-f000000"]
    for a, b in itertools.permutations(ids, 2):
        assert not fnmatch.fnmatchcase(f"{b}#c.mp4", f"{a}*.mp4")  # the loader's glob


def test_plain_identities_read_as_they_are() -> None:
    assert export_id("presenter-man") == "presenter-man~"
    assert entry_name("a b", "c1") == "a%20b~#c1"


def test_export_presets_name_the_training_code_and_resolve_to_layouts() -> None:
    from talkingub.curate.config import OutputConfig
    from talkingub.curate.export import layouts_of

    assert layouts_of(("tpsmm", "mraa", "lia", "fomm", "png")) == ["fomm", "png"]
    assert layouts_of(("lia",)) == ["png"]
    with pytest.raises(ConfigError, match=r"unknown layout 'liveportrait'.*lia png"):
        OutputConfig(export=("fomm", "liveportrait"))
