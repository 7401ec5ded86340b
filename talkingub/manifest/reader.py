"""Read and validate source manifests (Parquet, CSV/TSV, or a plain list of URLs).

A bad manifest is refused with a message naming the row and column. With `strict=False`
the bad rows are returned as `Problem`s instead, so a build can record them as skipped rows
(`invalid_row`) and go on with the rest. A file that cannot be read as its type, a missing
or unknown column, a Parquet column of the wrong Arrow type, and a manifest without rows (a
header only, an empty list) are refused in any mode, and so is a Parquet manifest that
records another schema version than `source/1` (`SchemaVersionError`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from talkingub.errors import ManifestError, TalkingubError
from talkingub.manifest.schema import (
    SOURCE_SCHEMA,
    SOURCE_SCHEMA_VERSION,
    SourceRow,
    check_version,
    recorded_version,
)

SAFE_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")
ALLOWED_SCHEMES = ("http", "https", "file")
SPLITS = ("train", "test")
TEXT_COLUMNS = ("video_id", "url", "identity", "split", "license", "channel", "notes")
KNOWN_COLUMNS = (*TEXT_COLUMNS, "start", "end")
LIST_SUFFIXES = (".txt", ".list", ".urls")


class EmptyManifestError(ManifestError):
    """A manifest with no rows (a header only, or a list with only comments and blank lines):
    a run over it would build nothing, so it is refused like any other bad manifest."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.row = None
        self.column = None
        TalkingubError.__init__(self, f"manifest {path} has no rows")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path,))


@dataclasses.dataclass(frozen=True)
class Problem:
    """One invalid row: where it is and why."""

    row: int
    column: str
    message: str
    video_id: str | None = None
    url: str | None = None

    def error(self) -> ManifestError:
        return ManifestError(self.message, row=self.row, column=self.column)


def read_source_manifest(
    path: str | Path, strict: bool = True
) -> tuple[list[SourceRow], list[Problem]]:
    """Read, normalise and validate a manifest; relative local paths resolve against its folder.
    A manifest without rows is refused (`EmptyManifestError`) in any mode."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"file not found: {path}")
    records = _read_records(path)
    if not records:
        raise EmptyManifestError(path)
    rows, problems = validate_rows(records, base_dir=path.parent.resolve())
    if strict and problems:
        raise problems[0].error()
    return rows, problems


def _read_records(path: Path) -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix in LIST_SUFFIXES:
        return _read_url_list(path)
    if suffix == ".parquet":
        table = _read_parquet(path)
        # a manifest written by talkingub records its version (SchemaVersionError: another)
        check_version(recorded_version(table.schema), SOURCE_SCHEMA_VERSION, path.name)
    elif suffix in (".csv", ".tsv"):
        table = _read_csv(path, delimiter="\t" if suffix == ".tsv" else ",")
    else:
        raise ManifestError(
            f"unsupported manifest type {suffix!r} (use .parquet, .csv, .tsv, .txt)"
        )
    _check_columns(table.column_names)
    if suffix == ".parquet":  # CSV text columns are read as strings; numbers are checked per row
        _check_types(table.schema)
    return table.to_pylist()


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        # pyarrow says "Could not open Parquet input source '<path>': <why>"; we name the file
        why = str(exc).replace(f"Could not open Parquet input source '{path}': ", "")
        raise ManifestError(
            f"cannot read {path.name} as Parquet: {' '.join(why.split())}"
        ) from None


def _check_types(schema: pa.Schema) -> None:
    """Each Parquet column must have its `source/1` type: text columns a string type, `start`
    and `end` any integer or floating-point type (an all-null column has the null type)."""
    for field in schema:
        found = field.type
        if pa.types.is_null(found):
            continue
        expected = SOURCE_SCHEMA.field(field.name).type
        if pa.types.is_floating(expected):
            ok = pa.types.is_integer(found) or pa.types.is_floating(found)
            wanted = "float64 (or any integer or floating-point type)"
        else:
            ok = _is_text(found)
            wanted = str(expected)
        if not ok:
            raise ManifestError(f"Arrow type {found} found, expected {wanted}", column=field.name)


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):  # e.g. a pandas categorical of strings
        kind = kind.value_type
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _read_csv(path: Path, delimiter: str) -> Any:
    # Non-UTF-8 bytes are replaced (U+FFFD), never fatal: metadata text is free-form.
    raw = path.read_bytes().decode("utf-8-sig", errors="replace").encode("utf-8")
    types = {c: "string" for c in TEXT_COLUMNS}
    try:
        return pacsv.read_csv(
            pa.BufferReader(raw),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in types},
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except Exception as exc:  # pyarrow raises ArrowInvalid with the line number
        raise ManifestError(f"cannot parse {path.name}: {exc}") from None


def _read_url_list(path: Path) -> list[dict[str, Any]]:
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    lines = (line.strip() for line in text.splitlines())
    return [{"url": line} for line in lines if line and not line.startswith("#")]


def _check_columns(columns: list[str]) -> None:
    if "url" not in columns:
        raise ManifestError("required column is missing", column="url")
    unknown = [c for c in columns if c not in KNOWN_COLUMNS]
    if unknown:
        raise ManifestError(
            f"unknown column (allowed: {', '.join(KNOWN_COLUMNS)})", column=unknown[0]
        )


def validate_rows(
    records: list[dict[str, Any]], base_dir: Path | None = None
) -> tuple[list[SourceRow], list[Problem]]:
    """Check every record; returns the good rows and one Problem per bad row."""
    rows: list[SourceRow] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(records, start=1):
        try:
            row = _validate_record(record, index, base_dir)
        except ManifestError as exc:
            problems.append(_problem(exc, index, record))
            continue
        if row.video_id in seen:
            message = (
                f"duplicate video_id {row.video_id!r} (first seen in row {seen[row.video_id]})"
            )
            problems.append(Problem(index, "video_id", message, row.video_id, row.url))
            continue
        seen[row.video_id] = index
        rows.append(row)
    return rows, problems


def _problem(exc: ManifestError, index: int, record: dict[str, Any]) -> Problem:
    message = str(exc).split(": ", 1)[-1]
    video_id = _text(record.get("video_id"))
    return Problem(index, exc.column or "", message, video_id, _text(record.get("url")))


def _validate_record(record: dict[str, Any], index: int, base_dir: Path | None) -> SourceRow:
    url = _check_url(_text(record.get("url")), index, base_dir)
    video_id = _text(record.get("video_id")) or derive_video_id(url)
    _check_id(video_id, index)
    start, end = _number(record, "start", index), _number(record, "end", index)
    _check_range(start, end, index)
    split = _text(record.get("split"))
    if split is not None and split not in SPLITS:
        raise ManifestError(f"split must be one of {list(SPLITS)}, got {split!r}", index, "split")
    identity = _text(record.get("identity")) or video_id
    extra = {k: _text(record.get(k)) for k in ("license", "channel", "notes")}
    return SourceRow(video_id, url, identity, start, end, split, row=index, **extra)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _number(record: dict[str, Any], column: str, index: int) -> float | None:
    value = record.get(column)
    if _text(value) is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ManifestError(f"not a number: {value!r}", index, column) from None
    if not math.isfinite(number) or number < 0:
        raise ManifestError(f"must be a finite number >= 0, got {value!r}", index, column)
    return number


def _check_range(start: float | None, end: float | None, index: int) -> None:
    if start is not None and end is not None and start >= end:
        raise ManifestError(f"start ({start}) must be before end ({end})", index, "start")


def _check_id(video_id: str, index: int) -> None:
    if video_id in (".", "..") or not SAFE_ID.match(video_id):
        raise ManifestError(
            f"unsafe video_id {video_id!r}: use 1-128 of [A-Za-z0-9._-], no path separators",
            index,
            "video_id",
        )


def _check_url(url: str | None, index: int, base_dir: Path | None) -> str:
    if url is None:
        raise ManifestError("empty url", index, "url")
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if len(scheme) <= 1:  # a local path (a one-letter "scheme" is a Windows drive)
        return _local_path(url, base_dir)
    if scheme not in ALLOWED_SCHEMES:
        raise ManifestError(
            f"URL scheme {scheme!r} not allowed (use http, https, file)", index, "url"
        )
    if scheme in ("http", "https") and not parsed.netloc:
        raise ManifestError(f"URL has no host: {url!r}", index, "url")
    return url


def _local_path(url: str, base_dir: Path | None) -> str:
    path = Path(url).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return str(path)


def derive_video_id(url: str) -> str:
    """A stable, filesystem-safe id: the YouTube id when there is one, else name + url hash."""
    parsed = urlparse(url)
    youtube = _youtube_id(parsed)
    if youtube:
        return youtube
    stem = Path(parsed.path).stem or parsed.netloc or "video"
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")[:40] or "video"
    return f"{slug}-{hashlib.sha1(url.encode()).hexdigest()[:8]}"


def _youtube_id(parsed: Any) -> str | None:
    host = parsed.netloc.lower()
    if host.endswith("youtu.be"):
        candidate = parsed.path.lstrip("/")
    elif "youtube.com" in host:
        query = dict(p.split("=", 1) for p in parsed.query.split("&") if "=" in p)
        candidate = query.get("v") or parsed.path.rsplit("/", 1)[-1]
    else:
        return None
    return candidate if re.fullmatch(r"[A-Za-z0-9_-]{11}", candidate or "") else None
