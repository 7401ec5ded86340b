"""Weights lookup, the local cache layout and hash checks (fetching lives in `fetch.py`).

The entry type and the table live in `specs.py`, the built-in entries in `catalogue.py`
(imported here, so that every lookup sees them); both are re-exported here.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from talkingub.errors import ConfigError, WeightsMissingError
from talkingub.io.atomic import sha256_file
from talkingub.paths import home_dir
from talkingub.weights import catalogue  # noqa: F401 - registers the built-in entries
from talkingub.weights.specs import WEIGHTS, WeightsSpec, register_weights

__all__ = [
    "WEIGHTS",
    "WeightsSpec",
    "expected_sha256",
    "hash_matches",
    "local_path",
    "record_path",
    "register_weights",
    "resolve",
    "spec",
    "verify",
    "weights_dir",
]


def spec(name: str) -> WeightsSpec:
    _load_catalogue()
    if name not in WEIGHTS:
        raise ConfigError(f"unknown weights {name!r} (known: {', '.join(sorted(WEIGHTS))})")
    return WEIGHTS[name]


def weights_dir() -> Path:
    """`TALKINGUB_WEIGHTS`, else `<TALKINGUB_HOME>/weights`."""
    explicit = os.environ.get("TALKINGUB_WEIGHTS")
    return Path(explicit).expanduser() if explicit else home_dir() / "weights"


def local_path(name: str) -> Path:
    return weights_dir() / spec(name).filename


def verify(name: str) -> bool:
    """True when the file is present and its sha256 matches the registry (or, for an
    unpinned entry, the digest recorded when it was fetched)."""
    path = local_path(name)
    expected = expected_sha256(name)
    return path.is_file() and bool(expected) and hash_matches(sha256_file(path), expected)


def record_path(name: str) -> Path:
    """Sidecar holding the digest seen at fetch time (unpinned entries only)."""
    path = local_path(name)
    return path.with_name(path.name + ".sha256")


def expected_sha256(name: str) -> str:
    """The registry hash, else the recorded one for unpinned entries ("" when none)."""
    entry = spec(name)
    if entry.pinned:
        return entry.sha256
    record = record_path(name)
    return record.read_text(encoding="utf-8").strip() if record.is_file() else ""


def hash_matches(digest: str, expected: str) -> bool:
    """Full-hash equality, or prefix match when the registry only knows a prefix."""
    expected = expected.lower()
    return len(expected) >= 8 and digest.lower().startswith(expected)


def resolve(name: str, check_hash: bool = True) -> Path:
    """Local path of verified weights, or a `WeightsMissingError` with the fix."""
    path = local_path(name)
    if not path.is_file():
        raise WeightsMissingError(
            f"weights {name!r} not found at {path}; run `talkingub weights fetch {name}` "
            f"(or place the file there / set TALKINGUB_WEIGHTS)"
        )
    expected = expected_sha256(name)
    if check_hash and not expected:
        raise WeightsMissingError(
            f"weights {name!r} at {path} have no published hash and no digest recorded at "
            f"fetch time; run `talkingub weights fetch {name} --force` to record one"
        )
    if check_hash and not hash_matches(sha256_file(path), expected):
        raise WeightsMissingError(
            f"weights {name!r} at {path} do not match the registry sha256; "
            f"run `talkingub weights fetch {name} --force`"
        )
    return path


# Modules that register the weights of model losses (imported only when torch is present).
MODEL_WEIGHT_MODULES = (
    "talkingub.zoo.common.perceptual",
    "talkingub.zoo.osfv.hopenet",
    "talkingub.zoo.liveportrait.teachers",
)


def _load_catalogue() -> None:
    """Import the modules that register the model losses' entries, when torch is installed
    (the metric backends' catalogue is imported with this module). These modules import
    torch, so they are loaded on the first lookup, never with the registry."""
    for module in MODEL_WEIGHT_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:  # a metrics-only install without torch lists the rest
            continue
