"""Weights specs, the local cache layout and hash checks (fetching lives in `fetch.py`)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from talkingub.errors import ConfigError, WeightsMissingError
from talkingub.io.atomic import sha256_file
from talkingub.paths import home_dir


@dataclasses.dataclass(frozen=True)
class WeightsSpec:
    name: str  # registry key, e.g. "vgg19"
    filename: str  # file name inside the cache folder
    url: str  # where `talkingub weights fetch` downloads it from
    # Expected content hash, lower-case hex: the full sha256, or a prefix of at least 8 hex
    # digits where the publisher only states a prefix (torchvision/torch.hub file names).
    # Empty ("unpinned") where no hash is published: `fetch` then records the digest it saw
    # in `<filename>.sha256` beside the file and later checks compare against that record.
    sha256: str
    description: str = ""
    used_by: tuple[str, ...] = ()  # metrics / models / losses that need it
    license: str = ""
    # When `url` is a zip archive: the member (matched by its base name) saved as `filename`.
    archive_member: str = ""

    @property
    def pinned(self) -> bool:
        return bool(self.sha256)


WEIGHTS: dict[str, WeightsSpec] = {}


def register_weights(spec: WeightsSpec) -> WeightsSpec:
    existing = WEIGHTS.get(spec.name)
    if existing is not None and existing != spec:
        raise ConfigError(f"weights {spec.name!r} registered twice with different specs")
    WEIGHTS[spec.name] = spec
    return spec


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
MODEL_WEIGHT_MODULES = ("talkingub.zoo.common.perceptual", "talkingub.zoo.osfv.hopenet")


def _load_catalogue() -> None:
    """Import the modules that register the built-in entries (kept apart from the mechanism):
    the metric backends' catalogue, and the model losses' entries when torch is installed."""
    import importlib

    from talkingub.weights import catalogue  # noqa: F401

    for module in MODEL_WEIGHT_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:  # a metrics-only install without torch lists the rest
            continue
