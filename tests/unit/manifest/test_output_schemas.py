"""The declared schemas of every table the toolkit writes, the shard sample layout, and the
schema version check of the readers (talkingub.manifest.schema).

The build checks use one small real build (the chest-up presenter clip, serial executor).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import tarfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from talkingub.errors import ConfigError, SchemaVersionError
from talkingub.manifest.schema import (
    FETCH_SCHEMA,
    OUTPUT_SCHEMAS,
    OUTPUT_TABLES,
    PROVENANCE_FIELDS,
    SAMPLE_JSON_FIELDS,
    SCHEMA_KEY,
    SCHEMA_VERSION,
    SOURCE_SCHEMA,
    ShardSample,
    check_version,
    output_table,
    output_version,
    recorded_version,
)

ALL_SCHEMAS = {"source": SOURCE_SCHEMA, "fetch": FETCH_SCHEMA, **OUTPUT_SCHEMAS}


@pytest.fixture(scope="module")
def build(presenter_chest_up_mp4: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real build of one kept clip: every table, a train shard, build.json."""
    from talkingub.curate import BuildConfig, BuildRun, run
    from talkingub.fetch import FetchConfig

    folder = tmp_path_factory.mktemp("schema-build")
    manifest = folder / "manifest.csv"
    manifest.write_text(
        f"video_id,url,identity,split\npresenter,{presenter_chest_up_mp4},presenter,train\n"
    )
    out = folder / "out"
    fetch = FetchConfig(manifest=manifest, out_dir=out, progress=False)
    recipe = BuildConfig()
    recipe = dataclasses.replace(recipe, output=dataclasses.replace(recipe.output, export=()))
    run(
        BuildRun(
            out_dir=out, recipe=recipe, fetch=fetch, executor="serial", workers=1, progress=False
        )
    )
    return out


def relabel(source: Path, target: Path, version: str) -> Path:
    """A copy of the Parquet file `source` that records `version`."""
    table = pq.read_table(source)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), SCHEMA_KEY: version})
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, target)
    return target


# --- the schemas themselves -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALL_SCHEMAS))
def test_empty_table_has_every_column_with_its_type(name: str) -> None:
    schema = ALL_SCHEMAS[name]
    table = output_table([], schema)
    assert table.num_rows == 0
    assert table.schema.equals(schema, check_metadata=True)
    assert len(set(schema.names)) == len(schema.names)  # no column declared twice


def test_every_schema_records_its_version() -> None:
    assert {n: recorded_version(s) for n, s in OUTPUT_SCHEMAS.items()} == {
        n: f"{SCHEMA_VERSION}/{n}" for n in OUTPUT_TABLES
    }
    assert recorded_version(SOURCE_SCHEMA) == "source/1"
    assert recorded_version(FETCH_SCHEMA) == "fetch/1"
    assert SCHEMA_VERSION == "talking-ub/2"


def test_output_schema_version_is_still_importable_from_curate_output() -> None:
    from talkingub.curate.output import SCHEMA_VERSION as OLD_NAME

    assert OLD_NAME == SCHEMA_VERSION


def test_the_writer_writes_empty_tables_with_every_column(tmp_path: Path) -> None:
    from talkingub.curate.output import write_tables

    paths = write_tables(tmp_path, [], [], [], {}, [])
    assert sorted(paths) == sorted(OUTPUT_TABLES)
    for name, path in paths.items():
        schema = pq.read_schema(path)
        assert schema.equals(OUTPUT_SCHEMAS[name], check_metadata=True), name
        assert pq.read_table(path).num_rows == 0


def test_a_key_the_schema_does_not_declare_is_refused() -> None:
    with pytest.raises(ValueError, match=r"not in the schema of talking-ub/2/splits: \['extra'\]"):
        output_table([{"video_id": "a", "extra": 1}], OUTPUT_SCHEMAS["splits"])
    table = output_table([{"video_id": "a"}], OUTPUT_SCHEMAS["splits"])  # missing keys: null
    assert table.to_pylist() == [{"video_id": "a", "identity": None, "split": None}]


def test_provenance_keys_are_the_curate_source_columns() -> None:
    from talkingub.curate.sources import SOURCE_COLUMNS

    assert [f.name for f in PROVENANCE_FIELDS] == list(SOURCE_COLUMNS)


# --- a real build -----------------------------------------------------------------------


@pytest.mark.peers
def test_real_build_tables_have_exactly_the_declared_schemas(build: Path) -> None:
    for name, schema in {"fetch": FETCH_SCHEMA, **OUTPUT_SCHEMAS}.items():
        found = pq.read_schema(build / f"{name}.parquet")
        assert found.equals(schema, check_metadata=True), name
    clips = pq.read_table(build / "clips.parquet").to_pylist()
    assert any(c["status"] == "kept" and c["shard"] for c in clips)  # the build kept a clip


@pytest.mark.peers
@pytest.mark.parametrize("name", ["fetch", *OUTPUT_TABLES])
def test_real_tables_round_trip_through_their_schema(
    build: Path, tmp_path: Path, name: str
) -> None:
    schema = {"fetch": FETCH_SCHEMA, **OUTPUT_SCHEMAS}[name]
    rows = pq.read_table(build / f"{name}.parquet").to_pylist()
    assert rows
    path = tmp_path / f"{name}.parquet"
    pq.write_table(output_table(rows, schema), path)
    again = pq.read_table(path)
    assert again.schema.equals(schema, check_metadata=True)
    assert again.to_pylist() == rows


@pytest.mark.peers
def test_shard_sample_members_are_those_a_real_shard_holds(build: Path) -> None:
    import webdataset as wds

    shards = sorted((build / "shards").glob("*.tar"))
    assert shards
    clips = pq.read_table(build / "clips.parquet").to_pylist()
    sharded = {c["clip_id"] for c in clips if c["shard"]}
    keys: dict[str, set[str]] = {}
    read: list[str] = []  # sample keys as WebDataset reads them
    for shard in shards:
        with tarfile.open(shard) as tar:
            for info in tar.getmembers():
                parsed = ShardSample.parse_member(info.name)
                assert parsed is not None, info.name  # every member is a sample's
                keys.setdefault(parsed[0], set()).add(parsed[1])
                if parsed[1] == ShardSample.JSON:
                    handle = tar.extractfile(info)
                    assert handle is not None
                    data = handle.read()
                    sample = ShardSample.decoded(parsed[0], data)
                    assert set(sample.meta) == set(SAMPLE_JSON_FIELDS)
                    assert sample.meta["clip_id"] == sample.key
                    assert data == json.dumps(sample.meta, sort_keys=True).encode()
        for sample in wds.WebDataset(str(shard), shardshuffle=False, empty_check=False):
            members = {k for k in sample if not k.startswith("__")}
            assert members == set(ShardSample.MEMBERS)
            read.append(sample[ShardSample.KEY])
    assert sorted(read) == sorted(keys) == sorted(sharded)
    assert all(exts == set(ShardSample.MEMBERS) for exts in keys.values())
    assert all(ShardSample.member_names(k) == {f"{k}.mp4", f"{k}.json"} for k in keys)


def test_shard_sample_writes_the_members_it_names(tmp_path: Path) -> None:
    from talkingub.curate.shards import write_shards

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not really an mp4")
    meta = {key: None for key in SAMPLE_JSON_FIELDS} | {"clip_id": "v.1-s000-f000000"}
    sample = ShardSample("v.1-s000-f000000", meta, clip)
    [(path, written)] = write_shards([sample], tmp_path / "shards", "train", per_shard=10)
    assert written == [sample.key]
    with tarfile.open(path) as tar:
        names = set(tar.getnames())
    assert names == ShardSample.member_names(sample.key)  # a key with a dot in it
    assert {ShardSample.parse_member(n) for n in names} == {
        (sample.key, "mp4"),
        (sample.key, "json"),
    }


# --- the version check ------------------------------------------------------------------


@pytest.mark.parametrize(
    "found",
    ["talking-ub/3", "talking-ub/1.4", "fetch/2", "talking-ub/2/clips", "garbage", ""],
)
def test_unknown_major_version_is_refused_in_one_line(found: str) -> None:
    with pytest.raises(SchemaVersionError) as caught:
        check_version(found, SCHEMA_VERSION, "build.json")
    message = str(caught.value)
    assert "\n" not in message
    assert message == (
        f"build.json: schema version {found!r} is not supported (this talkingub reads "
        f"{SCHEMA_VERSION}): rebuild it with this talkingub, or read it with the version that "
        "wrote it"
    )
    assert isinstance(caught.value, ConfigError) and caught.value.exit_code == 2
    assert (caught.value.found, caught.value.supported) == (found, SCHEMA_VERSION)


@pytest.mark.parametrize("found", [None, "talking-ub/2", "talking-ub/2.7"])
def test_the_same_major_version_or_none_is_read(found: str | None) -> None:
    check_version(found, SCHEMA_VERSION, "build.json")
    check_version(None if found is None else f"{found}/clips", output_version("clips"), "x")


def test_schema_version_error_survives_pickling() -> None:
    import pickle

    error = SchemaVersionError("clips.parquet", "talking-ub/3/clips", "talking-ub/2/clips")
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.found == "talking-ub/3/clips"


def test_source_manifest_of_another_version_is_refused(tmp_path: Path) -> None:
    from talkingub.manifest.reader import read_source_manifest

    table = pa.table({"video_id": ["x"], "url": ["https://e.org/x.mp4"], "identity": ["p"]})
    pq.write_table(table.replace_schema_metadata({SCHEMA_KEY: b"source/2"}), tmp_path / "m.parquet")
    with pytest.raises(SchemaVersionError, match=r"^m\.parquet: schema version 'source/2' .*"):
        read_source_manifest(tmp_path / "m.parquet")
    pq.write_table(table.replace_schema_metadata({SCHEMA_KEY: b"source/1"}), tmp_path / "m.parquet")
    rows, _ = read_source_manifest(tmp_path / "m.parquet")
    assert rows[0].identity == "p"


@pytest.mark.peers
def test_bench_index_refuses_a_build_of_another_major_version(build: Path, tmp_path: Path) -> None:
    from talkingub.bench.data import BuildIndex

    assert BuildIndex(build).clips  # the real build is read
    relabeled = tmp_path / "relabeled"
    relabel(build / "clips.parquet", relabeled / "clips.parquet", "talking-ub/3/clips")
    with pytest.raises(SchemaVersionError, match=r"'talking-ub/3/clips'.*reads talking-ub/2/clips"):
        BuildIndex(relabeled)
    meta = json.loads((build / "build.json").read_text())
    newer = tmp_path / "newer"
    newer.mkdir()
    shutil.copy(build / "clips.parquet", newer / "clips.parquet")
    (newer / "build.json").write_text(json.dumps({**meta, "schema": "talking-ub/3"}))
    where = re.escape(str(newer / "build.json"))
    with pytest.raises(SchemaVersionError, match=rf"^{where}: schema version 'talking-ub/3'"):
        BuildIndex(newer)


@pytest.mark.peers
def test_refilter_refuses_a_build_of_another_major_version(build: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from talkingub.cli import main
    from talkingub.curate.refilter import refilter

    meta = json.loads((build / "build.json").read_text())
    (tmp_path / "build.json").write_text(json.dumps({**meta, "schema": "talking-ub/3"}))
    with pytest.raises(SchemaVersionError, match="'talking-ub/3'"):
        refilter(tmp_path, {}, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build.json"]  # nothing written
    result = CliRunner().invoke(main, ["refilter", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "talking-ub/3" in lines[0] and SCHEMA_VERSION in lines[0]


@pytest.mark.peers
def test_export_refuses_frames_of_another_major_version(build: Path, tmp_path: Path) -> None:
    from talkingub.curate.export import sampled_frames

    assert sampled_frames(build / "frames.parquet")  # the kept clip's sampled frames
    path = relabel(build / "frames.parquet", tmp_path / "frames.parquet", "talking-ub/3/frames")
    with pytest.raises(SchemaVersionError, match=r"/frames\.parquet: .*'talking-ub/3/frames'"):
        sampled_frames(path)


@pytest.mark.peers
def test_verify_reports_a_table_of_another_major_version(build: Path, tmp_path: Path) -> None:
    from talkingub.curate.verify import verify_build

    copy = tmp_path / "copy"
    shutil.copytree(build, copy, symlinks=True)
    assert verify_build(copy) == []
    relabel(build / "splits.parquet", copy / "splits.parquet", "talking-ub/3/splits")
    problems = verify_build(copy)
    assert "splits.parquet: schema 'talking-ub/3/splits', expected talking-ub/2/splits" in problems
