"""Versioned Arrow schemas for every table the toolkit reads or writes, the layout of a shard
sample, and the schema versions.

- `SOURCE_SCHEMA` (`source/1`): a source manifest (the input).
- `FETCH_SCHEMA` (`fetch/1`): `OUT/fetch.parquet`, one row per manifest row (the fetch stage).
- `OUTPUT_SCHEMAS` (`talking-ub/2/<table>`): `videos`, `clips`, `frames` and `splits.parquet`,
  the build's tables; `SCHEMA_VERSION` (`talking-ub/2`) is also recorded in `build.json` and
  the folder's ownership mark.
- `ShardSample`: the members of one WebDataset sample in `shards/{train,test}-NNNNN.tar` and
  the keys of its JSON (`SAMPLE_JSON_FIELDS`).

Each schema carries `talkingub.schema = <family>/<major>[.<minor>][/<table>]` in its metadata.
Readers call `check_version`: another family, table or *major* version is refused
(`SchemaVersionError`, one line naming both versions); a newer minor version only adds what
an older reader may ignore. Nothing recorded (a table made by hand) is read as the current one.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from talkingub.errors import SchemaVersionError

SCHEMA_KEY = b"talkingub.schema"  # schema metadata key of every table the toolkit writes
SOURCE_SCHEMA_VERSION = "source/1"
FETCH_SCHEMA_VERSION = "fetch/1"
# The build's outputs (tables, build.json, the folder mark). 2: frames.parquet has a row per
# analysed frame (`analysed`) and per output frame (`sampled`); clips.parquet has a row per
# segment (candidate clips and the failing stretches between them)
SCHEMA_VERSION = "talking-ub/2"
OUTPUT_TABLES = ("videos", "clips", "frames", "splits")

_VERSION = re.compile(
    r"(?P<family>[a-z][a-z0-9-]*)/(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:/(?P<table>\w+))?"
)


@dataclasses.dataclass(frozen=True)
class Version:
    """A parsed schema version: `<family>/<major>[.<minor>][/<table>]`."""

    family: str
    major: int
    minor: int = 0
    table: str | None = None

    @classmethod
    def parse(cls, text: str) -> Version | None:
        match = _VERSION.fullmatch(text)
        if match is None:
            return None
        return cls(match["family"], int(match["major"]), int(match["minor"] or 0), match["table"])

    def reads(self, other: Version) -> bool:
        """Whether a reader of this version reads a table of `other` (same family, major
        version and table; any minor version)."""
        return (self.family, self.major, self.table) == (other.family, other.major, other.table)


def output_version(table: str) -> str:
    """The version recorded in the metadata of an output table (`talking-ub/2/clips`)."""
    return f"{SCHEMA_VERSION}/{table}"


def supports(found: str | None, supported: str) -> bool:
    """Whether `found` (a recorded version) is one a reader of `supported` reads."""
    parsed, wanted = Version.parse(found or ""), Version.parse(supported)
    return parsed is not None and wanted is not None and wanted.reads(parsed)


def check_version(found: str | None, supported: str, where: str | Path) -> None:
    """Refuse (`SchemaVersionError`) a recorded version `found` that a reader of `supported`
    cannot read; None (no version recorded) is read as `supported`."""
    if found is not None and not supports(found, supported):
        raise SchemaVersionError(str(where), found, supported)


def recorded_version(schema: pa.Schema) -> str | None:
    """The version in a table's schema metadata (None when none is recorded)."""
    value = (schema.metadata or {}).get(SCHEMA_KEY)
    return None if value is None else value.decode("utf-8", errors="replace")


def check_table(path: Path, supported: str) -> None:
    """Refuse a Parquet file whose recorded version a reader of `supported` cannot read."""
    import pyarrow.parquet as pq

    check_version(recorded_version(pq.read_schema(path)), supported, path)


def check_build(build_dir: Path) -> None:
    """Refuse a build folder whose `build.json` records a version this talkingub cannot
    read (nothing to check when it is missing or not a JSON object)."""
    path = build_dir / "build.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    found = meta.get("schema") if isinstance(meta, dict) else None
    check_version(None if found is None else str(found), SCHEMA_VERSION, path)


def _with_version(schema: pa.Schema, version: str) -> pa.Schema:
    return schema.with_metadata({SCHEMA_KEY: version.encode()})


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


def output_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """An output table of `rows` with exactly `schema` (its metadata included; a missing key
    is null). A key the schema does not declare is a bug, refused (never silently dropped)."""
    declared = set(schema.names)
    extra = sorted({key for row in rows for key in row} - declared)
    if extra:
        version = recorded_version(schema) or "a table"
        raise ValueError(f"keys not in the schema of {version}: {extra}")
    return pa.Table.from_pylist(rows, schema=schema)


def _list(item: pa.DataType) -> pa.DataType:
    """A list type as Parquet stores it (items named `element`), so a table read back from
    its file has exactly the declared schema."""
    return pa.list_(pa.field("element", item))


_BOX = _list(pa.float64())

# Provenance of a source video, the same keys in videos.parquet, clips.parquet and each shard
# sample's JSON (talkingub.curate.sources.SOURCE_COLUMNS names the fetch.parquet columns).
PROVENANCE_FIELDS = [
    pa.field("source_url", pa.string()),  # the manifest's url
    pa.field("section_start", pa.float64()),  # requested section, seconds (null: none)
    pa.field("section_end", pa.float64()),
    pa.field("license", pa.string()),  # free text, null when empty
    pa.field("channel", pa.string()),
    pa.field("notes", pa.string()),
]

VIDEOS_SCHEMA = _with_version(
    pa.schema(
        [
            pa.field("video_id", pa.string()),
            pa.field("url", pa.string()),
            pa.field("identity", pa.string()),
            pa.field("split", pa.string()),  # train | test; null: not split (not fetched)
            pa.field("manifest_split", pa.string()),  # the manifest's split column
            pa.field("duplicate_of", pa.string()),  # the earlier video it duplicates
            pa.field("fetch_status", pa.string()),  # fetch.parquet status
            pa.field("fetch_reason", pa.string()),
            pa.field("status", pa.string()),  # kept | rejected | failed | skipped
            pa.field("reason", pa.string()),  # reason code (null when kept)
            pa.field("detail", pa.string()),
            pa.field("width", pa.int64()),  # source video, pixels
            pa.field("height", pa.int64()),
            pa.field("fps", pa.float64()),
            pa.field("duration", pa.float64()),  # seconds
            pa.field("sha256", pa.string()),  # of the fetched file
            pa.field("frames", pa.int64()),  # frames analysed (decoded) in the source
            pa.field("n_sequences", pa.int64()),  # clips.parquet rows of the video
            pa.field("n_clips_kept", pa.int64()),  # kept clips with sampled frames
            pa.field("n_frames_kept", pa.int64()),  # their sampled frames
            pa.field("analysis_backend", pa.string()),  # "<backend> <version>"
            *PROVENANCE_FIELDS,
        ]
    ),
    output_version("videos"),
)

# Scores of a segment (talkingub.curate.filters), as clips.parquet `score_<name>` columns; a
# failing stretch between candidate clips has no `n_bridged`, `run_pieces`, `face_overhang_max`
CLIP_SCORE_FIELDS = [
    pa.field("n_analysed", pa.int64()),
    pa.field("face_ratio_median", pa.float64()),
    pa.field("face_ratio_min", pa.float64()),
    pa.field("face_ratio_max", pa.float64()),
    pa.field("torso_extent_median", pa.float64()),
    pa.field("torso_extent_min", pa.float64()),
    pa.field("shoulders_in_frame_share", pa.float64()),
    pa.field("body_censored_share", pa.float64()),
    pa.field("face_score_median", pa.float64()),
    pa.field("sharpness_median", pa.float64()),
    pa.field("bg_step_max", pa.float64()),
    pa.field("bg_drift_max", pa.float64()),
    pa.field("crop_side", pa.float64()),
    pa.field("crop_jitter", pa.float64()),
    pa.field("shot_cut", pa.float64()),  # PySceneDetect content_val at the shot's cut
    pa.field("n_bridged", pa.int64()),  # detector-miss frames bridged inside the clip
    pa.field("run_pieces", pa.int64()),
    pa.field("face_overhang_max", pa.float64()),  # largest share of a face box off the crop
]

CLIPS_SCHEMA = _with_version(
    pa.schema(
        [
            pa.field("clip_id", pa.string()),
            pa.field("video_id", pa.string()),
            pa.field("identity", pa.string()),
            pa.field("split", pa.string()),
            pa.field("shot", pa.int64()),
            pa.field("start", pa.int64()),  # first source frame (inclusive)
            pa.field("end", pa.int64()),  # last source frame (exclusive)
            pa.field("fps", pa.float64()),
            pa.field("n_frames", pa.int64()),
            pa.field("seconds", pa.float64()),
            pa.field("status", pa.string()),  # kept | rejected
            pa.field("reason", pa.string()),
            pa.field("detail", pa.string()),
            pa.field("crop_x0", pa.float64()),  # crop box, source pixels
            pa.field("crop_y0", pa.float64()),
            pa.field("crop_side", pa.float64()),
            pa.field("crop_norm", _BOX),  # x0/w, y0/h, side/w, side/h
            pa.field("n_sampled", pa.int64()),  # output frames (in the shard sample)
            pa.field("file", pa.string()),  # encoded clip, OUT/work/<video_id>/clips/<file>
            *(pa.field(f"score_{f.name}", f.type) for f in CLIP_SCORE_FIELDS),
            *PROVENANCE_FIELDS,
            pa.field("shard", pa.string()),  # the shard (in OUT/shards) holding its sample
        ]
    ),
    output_version("clips"),
)

FRAMES_SCHEMA = _with_version(
    pa.schema(
        [
            pa.field("sampled", pa.bool_()),  # an output frame of a kept clip (in its shard)
            pa.field("video_id", pa.string()),
            pa.field("clip_id", pa.string()),
            pa.field("identity", pa.string()),
            pa.field("split", pa.string()),
            pa.field("source_frame", pa.int64()),
            pa.field("clip_frame", pa.int64()),  # offset in the clip (sampled frames only)
            pa.field("time", pa.float64()),  # seconds in the source
            pa.field("measured_frame", pa.int64()),  # analysed frame the measures are from
            pa.field("status", pa.string()),  # kept | rejected
            pa.field("reason", pa.string()),
            pa.field("crop_box", _BOX),  # x0, y0, side (source pixels)
            pa.field("crop_box_norm", _BOX),  # x0/w, y0/h, side/w, side/h
            pa.field("face_box_crop", _BOX),  # x0, y0, x1, y1 in the crop, clipped to it
            pa.field("face_box_overhang", pa.float64()),  # share of the face box off the crop
            pa.field("face_box_source", _BOX),  # x0, y0, x1, y1 (source pixels)
            pa.field("face_score", pa.float64()),
            pa.field("face_detector", pa.string()),
            pa.field("face_ratio", pa.float64()),
            pa.field("face_height", pa.float64()),
            pa.field("upper_body_height", pa.float64()),
            pa.field("head_top", pa.float64()),
            pa.field("head_margin", pa.float64()),
            pa.field("body_bottom", pa.float64()),
            pa.field("body_censored", pa.bool_()),
            pa.field("hips_visible", pa.bool_()),
            pa.field("shoulders_in_frame", pa.bool_()),
            pa.field("shoulder_y", pa.float64()),
            pa.field("torso_extent", pa.float64()),
            pa.field("n_faces", pa.int64()),
            pa.field("n_faces_any", pa.int64()),
            pa.field("n_person_regions", pa.int64()),
            pa.field("sharpness", pa.float64()),
            pa.field("person_area", pa.float64()),
            pa.field("bg_step", pa.float64()),
            pa.field("bg_drift", pa.float64()),
            pa.field("pose", _list(_list(pa.float64()))),  # 33 x (x, y, visibility)
            pa.field("analysed", pa.bool_()),  # an analysed frame of a sequence
            pa.field("gate", pa.string()),  # the frame's own first failing gate
            pa.field("bridged", pa.bool_()),  # a detector-miss gap bridged inside the clip
        ]
    ),
    output_version("frames"),
)

SPLITS_SCHEMA = _with_version(
    pa.schema(
        [
            pa.field("video_id", pa.string()),
            pa.field("identity", pa.string()),
            pa.field("split", pa.string()),  # train | test
        ]
    ),
    output_version("splits"),
)

OUTPUT_SCHEMAS: dict[str, pa.Schema] = {
    "videos": VIDEOS_SCHEMA,
    "clips": CLIPS_SCHEMA,
    "frames": FRAMES_SCHEMA,
    "splits": SPLITS_SCHEMA,
}

# The keys of a shard sample's JSON member, and their meaning.
SAMPLE_JSON_FIELDS: dict[str, str] = {
    "clip_id": "the clip's id: the sample key and clips.parquet clip_id",
    "video_id": "the source video",
    "identity": "the person (splits are identity-disjoint)",
    "split": "train | test (the shard's prefix)",
    "fps": "frame rate of the clip",
    "n_frames": "frames in the mp4",
    "source_start": "source frame of the clip's first frame (clips.parquet start)",
    "crop_box": "x0, y0, side of the crop in source pixels (2 decimals)",
    "sampled_frames": "clip frame offsets of the output frames (frames.parquet sampled rows)",
    "face_boxes": "per clip frame: the face box x0, y0, x1, y1 in the crop (0-1), or null",
    "config_hash": "hash of the build's resolved config (build.json config_hash)",
    **{f.name: "provenance (videos.parquet has it too)" for f in PROVENANCE_FIELDS},
}


@dataclasses.dataclass(frozen=True)
class ShardSample:
    """One WebDataset sample of `shards/{train,test}-NNNNN.tar`: one kept clip.

    Its tar members are `<key>.mp4` (the encoded clip, H.264 in MP4) and `<key>.json` (UTF-8
    JSON object with sorted keys, `SAMPLE_JSON_FIELDS`); `key` is the clip id. The writer
    gives `mp4` (the encoded clip's file); a reader that only indexes a shard leaves it None.
    """

    key: str
    meta: dict[str, Any]
    mp4: Path | None = None

    KEY: ClassVar[str] = "__key__"  # WebDataset's name of the sample key
    MP4: ClassVar[str] = "mp4"
    JSON: ClassVar[str] = "json"
    MEMBERS: ClassVar[tuple[str, ...]] = ("mp4", "json")

    @classmethod
    def member(cls, key: str, ext: str) -> str:
        """The tar member name of `ext` (one of MEMBERS) of the sample `key`."""
        return f"{key}.{ext}"

    @classmethod
    def member_names(cls, key: str) -> set[str]:
        return {cls.member(key, ext) for ext in cls.MEMBERS}

    @classmethod
    def parse_member(cls, name: str) -> tuple[str, str] | None:
        """(key, ext) of a member name, or None when it is not one of a sample's members.
        Keys may hold dots: the extension is matched at the end."""
        for ext in cls.MEMBERS:
            suffix = f".{ext}"
            if name.endswith(suffix) and len(name) > len(suffix):
                return name[: -len(suffix)], ext
        return None

    @property
    def video_id(self) -> str:
        return str(self.meta["video_id"])

    @property
    def identity(self) -> str:
        return str(self.meta["identity"])

    @property
    def split(self) -> str:
        return str(self.meta["split"])

    @property
    def sampled_frames(self) -> list[int]:
        return [int(i) for i in self.meta["sampled_frames"]]

    @property
    def face_boxes(self) -> list[list[float] | None]:
        return list(self.meta["face_boxes"])

    def encoded(self) -> dict[str, Any]:
        """The sample as a WebDataset writer takes it (the mp4 file read)."""
        if self.mp4 is None:
            raise ValueError(f"sample {self.key}: no mp4 file to write")
        return {
            self.KEY: self.key,
            self.MP4: Path(self.mp4).read_bytes(),
            self.JSON: json.dumps(self.meta, sort_keys=True).encode(),
        }

    @classmethod
    def decoded(cls, key: str, data: bytes) -> ShardSample:
        """A sample read back from its JSON member's bytes (ValueError when not a JSON
        object)."""
        meta = json.loads(data)
        if not isinstance(meta, Mapping):
            raise ValueError(f"sample {key}: json is not an object")
        return cls(key, dict(meta))
