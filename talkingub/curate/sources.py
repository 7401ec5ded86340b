"""Provenance of every output row: where its source video came from and under what licence.

The manifest's `url`, requested section (`start`/`end`, seconds) and free-text `license`,
`channel`, `notes` reach the build through the fetch.parquet row (`section_start`,
`section_end` there). The same six keys are added to videos.parquet, clips.parquet and each
shard sample's JSON, so a clip can always be traced back to its source and licence.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable, Mapping
from typing import Any

# Output key -> fetch.parquet column. Not `start`/`end`/`source_start`: clips rows and shard
# JSON already use those names for the clip's frames in the source video.
SOURCE_COLUMNS: dict[str, str] = {
    "source_url": "url",
    "section_start": "section_start",
    "section_end": "section_end",
    "license": "license",
    "channel": "channel",
    "notes": "notes",
}
NO_LICENCE = "(none)"


def source_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """The provenance keys of one fetch.parquet row; missing, NaN or blank values are None."""
    fields: dict[str, Any] = {}
    for key, column in SOURCE_COLUMNS.items():
        value = row.get(column)
        if key in ("section_start", "section_end"):
            fields[key] = _seconds(value)
        else:
            fields[key] = _text(value)
    return fields


def add_source_fields(target: dict[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """Add `fields` to `target` in place; refuses to overwrite a key the row already has."""
    clash = sorted(k for k in fields if k in target)
    if clash:
        raise ValueError(f"provenance keys already present in an output row: {clash}")
    target.update(fields)
    return target


def licence_summary(clips: Iterable[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """Kept clips (status kept, at least one sampled frame: the ones in shards) per licence,
    most clips first; a missing licence counts as "(none)"."""
    counts = collections.Counter(
        _text(c.get("license")) or NO_LICENCE
        for c in clips
        if c.get("status") == "kept" and (c.get("n_sampled") or 0) > 0
    )
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _seconds(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
