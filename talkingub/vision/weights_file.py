"""Local weights files for the file-based backends: a given path or the weights registry."""

from __future__ import annotations

from pathlib import Path

from talkingub.errors import WeightsMissingError
from talkingub.io.atomic import sha256_file
from talkingub.weights import resolve


def weights_path(explicit: str | Path | None, registry_name: str) -> Path:
    """`explicit` when given (must exist), else the verified registry file (or the fetch hint)."""
    if explicit is None:
        return resolve(registry_name)
    path = Path(explicit).expanduser()
    if not path.is_file():
        raise WeightsMissingError(
            f"weights file {path} not found; run `talkingub weights fetch {registry_name}` "
            "or pass an existing file"
        )
    return path


def file_tag(path: Path) -> str:
    """`name@sha256[:12]` recorded as part of a backend version."""
    return f"{path.name}@{sha256_file(path)[:12]}"
