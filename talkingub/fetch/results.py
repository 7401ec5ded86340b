"""Per-row fetch results: one JSON part per row (atomic), assembled into fetch.parquet."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from talkingub.io.atomic import atomic_path, atomic_write_text, sha256_file
from talkingub.manifest.schema import FETCH_SCHEMA, SourceRow, rows_to_table


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def request_key(row: SourceRow, max_height: int) -> dict[str, Any]:
    """What must match for an earlier result to stand for this row."""
    return {"url": row.url, "start": row.start, "end": row.end, "max_height": max_height}


def base_record(row: SourceRow) -> dict[str, Any]:
    return {
        "video_id": row.video_id,
        "url": row.url,
        "identity": row.identity,
        "split": row.split,
        "section_start": row.start,
        "section_end": row.end,
        **provenance_record(row),
    }


def provenance_record(row: SourceRow) -> dict[str, Any]:
    """Free-text provenance: not part of the request key, so a reused result takes the
    current manifest's values rather than those saved with the earlier part."""
    return {"license": row.license, "channel": row.channel, "notes": row.notes}


class PartStore:
    """`<out>/fetch/parts/<video_id>.json`, written atomically, one per finished row."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.folder = out_dir / "fetch" / "parts"
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, video_id: str) -> Path:
        return self.folder / f"{video_id}.json"

    def save(self, record: dict[str, Any], key: dict[str, Any]) -> None:
        payload = {"key": key, "record": record}
        atomic_write_text(self.path(record["video_id"]), json.dumps(payload, sort_keys=True))

    def cached_ok(self, row: SourceRow, key: dict[str, Any]) -> dict[str, Any] | None:
        """An earlier ok result for the same request whose file still hashes the same."""
        part = self.path(row.video_id)
        if not part.is_file():
            return None
        try:
            payload = json.loads(part.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        record = payload.get("record", {})
        if payload.get("key") != key or record.get("status") != "ok":
            return None
        file = self.out_dir / str(record.get("path"))
        if not file.is_file() or sha256_file(file) != record.get("sha256"):
            return None
        return dict(record)


def write_table(records: list[dict[str, Any]], final: Path) -> Path:
    table = rows_to_table(records, FETCH_SCHEMA)
    with atomic_path(final) as tmp:
        pq.write_table(table, tmp)
    return final
