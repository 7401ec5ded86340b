"""Versioned Arrow schemas for every table the toolkit writes.

Each schema carries `talkingub.schema = <name>/<version>` in its metadata so readers (and
`talkingub verify`) can refuse a table written by an incompatible version.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pyarrow as pa

SOURCE_SCHEMA_VERSION = "source/1"
FETCH_SCHEMA_VERSION = "fetch/1"


def _with_version(schema: pa.Schema, version: str) -> pa.Schema:
    return schema.with_metadata({b"talkingub.schema": version.encode()})


SOURCE_SCHEMA = _with_version(
    pa.schema(
        [
            pa.field("video_id", pa.string(), nullable=False),
            pa.field("url", pa.string(), nullable=False),
            pa.field("start", pa.float64()),
            pa.field("end", pa.float64()),
            pa.field("identity", pa.string(), nullable=False),
            pa.field("split", pa.string()),
            pa.field("license", pa.string()),
            pa.field("channel", pa.string()),
            pa.field("notes", pa.string()),
        ]
    ),
    SOURCE_SCHEMA_VERSION,
)

FETCH_SCHEMA = _with_version(
    pa.schema(
        [
            ("video_id", pa.string()),
            ("url", pa.string()),
            ("identity", pa.string()),
            ("split", pa.string()),
            ("status", pa.string()),  # ok | failed | skipped
            ("reason", pa.string()),  # reason code (talkingub.fetch.reasons)
            ("error", pa.string()),
            ("backend", pa.string()),  # local | ytdlp
            ("path", pa.string()),  # relative to the output folder
            ("section_start", pa.float64()),
            ("section_end", pa.float64()),
            ("license", pa.string()),  # provenance, copied from the manifest row
            ("channel", pa.string()),
            ("notes", pa.string()),
            ("format_id", pa.string()),
            ("container", pa.string()),
            ("vcodec", pa.string()),
            ("width", pa.int32()),
            ("height", pa.int32()),
            ("fps", pa.float64()),
            ("duration", pa.float64()),
            ("frames", pa.int64()),
            ("rotation", pa.int32()),
            ("has_audio", pa.bool_()),
            ("file_size", pa.int64()),
            ("sha256", pa.string()),
            ("attempts", pa.int32()),
            ("ytdlp_version", pa.string()),
            ("started_at", pa.string()),
            ("finished_at", pa.string()),
        ]
    ),
    FETCH_SCHEMA_VERSION,
)

TIMESTAMP_COLUMNS = ("started_at", "finished_at")


@dataclasses.dataclass(frozen=True)
class SourceRow:
    """One validated row of a source manifest."""

    video_id: str
    url: str
    identity: str
    start: float | None = None
    end: float | None = None
    split: str | None = None
    license: str | None = None
    channel: str | None = None
    notes: str | None = None
    row: int = 0  # 1-based data row number in the original file (for messages)

    def as_record(self) -> dict[str, Any]:
        record = dataclasses.asdict(self)
        record.pop("row")
        return record


def rows_to_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Build a table with exactly `schema`'s columns (missing keys become nulls)."""
    columns = {f.name: [r.get(f.name) for r in rows] for f in schema}
    return pa.table(columns, schema=schema)
