"""Protocol YAML: names resolve, unknown keys are refused, per-method augmentations merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from talkingub.bench.protocol import load_protocol
from talkingub.errors import ConfigError
from talkingub.presets import preset_names


@pytest.mark.parametrize("name", preset_names("protocols"))
def test_shipped_protocols_load_and_name_registered_methods(name: str) -> None:
    from talkingub import list_models

    protocol = load_protocol(name)
    assert protocol.name == name
    assert set(protocol.methods) <= set(list_models())


def test_unknown_key_is_rejected_with_its_dotted_name(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("methods: [fomm]\nschedule: {steps: 3, stepz: 4}\n")
    with pytest.raises(ConfigError, match=r"schedule\.stepz"):
        load_protocol(path)


def test_method_augment_overrides_only_that_method(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("methods: [fomm, lia]\nmethod_augment: {lia: {brightness: 0.0}}\n")
    protocol = load_protocol(path)
    assert protocol.augment_for("lia").brightness == 0.0
    assert protocol.augment_for("fomm").brightness == protocol.augment.brightness


def test_method_augment_with_a_bad_key_fails_at_load(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("methods: [fomm]\nmethod_augment: {fomm: {blur: 1}}\n")
    with pytest.raises(ConfigError, match="blur"):
        load_protocol(path)


def test_unknown_protocol_name_lists_the_available_ones() -> None:
    with pytest.raises(ConfigError, match="tiny-cpu"):
        load_protocol("no-such-protocol")
