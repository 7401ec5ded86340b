from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import pytest

from talkingub.config import config_hash, from_dict, merge
from talkingub.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Inner:
    low: float = 0.33
    high: float = 0.66


@dataclasses.dataclass(frozen=True)
class Outer:
    name: str = "x"
    band: Inner = Inner()
    sizes: tuple[int, ...] = (1, 2)
    mode: Literal["a", "b"] = "a"
    path: Path | None = None


def test_nested_values_are_coerced() -> None:
    cfg = from_dict(Outer, {"band": {"low": 1}, "sizes": [3, 4], "path": "/tmp/x"})
    assert cfg.band.low == 1.0 and isinstance(cfg.band.low, float)
    assert cfg.sizes == (3, 4) and cfg.path == Path("/tmp/x")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"colour": 1}, "unknown key 'colour'"),
        ({"band": {"lo": 1}}, "unknown key 'band.lo'"),
        ({"mode": "c"}, "mode"),
        ({"name": 3}, "name"),
        ({"sizes": "12"}, "sizes"),
    ],
)
def test_bad_keys_and_types_are_rejected(data: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")):
        from_dict(Outer, data)


def test_cli_overrides_file_overrides_defaults(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: file\nband:\n  low: 0.2\n  high: 0.7\n")
    cfg = merge(Outer, recipe, {"band.high": 0.9, "name": None})
    assert (cfg.name, cfg.band.low, cfg.band.high) == ("file", 0.2, 0.9)


def test_hash_is_stable_and_sensitive() -> None:
    assert config_hash(Outer()) == config_hash(Outer())
    assert config_hash(Outer()) != config_hash(Outer(name="y"))
    assert len(config_hash(Outer())) == 12
