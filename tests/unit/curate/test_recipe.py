"""The shipped recipe spells out every setting, and the README documents each of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from talkingub.config import load_yaml, merge, to_dict
from talkingub.curate.config import BuildConfig, default_recipe

REPO = Path(__file__).resolve().parents[3]


def dotted(data: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for k, v in data.items():
        if isinstance(v, dict):
            yield from dotted(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}"


def test_recipe_sets_every_key_to_the_documented_default() -> None:
    assert set(dotted(load_yaml(default_recipe()))) == set(dotted(to_dict(BuildConfig())))
    assert merge(BuildConfig, default_recipe(), {}) == BuildConfig()


def test_readme_protocol_section_names_every_setting() -> None:
    text = (REPO / "README.md").read_text()
    start = text.index("## The Talking-UB protocol as implemented")
    section = text[start : text.index("\n## ", start + 1)]
    missing = [k for k in dotted(to_dict(BuildConfig())) if f"`{k}`" not in section]
    assert not missing, missing
