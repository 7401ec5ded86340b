"""Every decision setting (filters.*, crop.*, split.*) is a `build` and `refilter` flag."""

from __future__ import annotations

import dataclasses

import click
import pytest

from talkingub.cli.build_cmd import build_command, decision_flags, overrides, refilter_command
from talkingub.curate.config import CropConfig, FilterConfig, SplitConfig


@pytest.mark.parametrize("command", [build_command, refilter_command])
def test_every_decision_setting_has_a_flag(command: click.Command) -> None:
    names = {p.name for p in command.params}
    settings = [
        (section, f.name)
        for section, cls in (
            ("filters", FilterConfig),
            ("crop", CropConfig),
            ("split", SplitConfig),
        )
        for f in dataclasses.fields(cls)
    ]
    assert {name for _, name in settings} <= names
    assert decision_flags() == {name: f"{section}.{name}" for section, name in settings}


def test_flags_map_to_dotted_overrides_with_the_field_type() -> None:
    ctx = refilter_command.make_context(
        "refilter", [".", "--min-torso", "0.2", "--max-gap", "3", "--test-frames", "50"]
    )
    chosen = {k: v for k, v in overrides(dict(ctx.params)).items() if v is not None}
    assert chosen == {"filters.min_torso": 0.2, "filters.max_gap": 3, "split.test_frames": 50}
