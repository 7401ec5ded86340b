"""`talkingub verify` finds tampering (flipped byte, missing shard, dangling row, split leak,
wrong schema version); `build.json` records what produced the build."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import talkingub
from talkingub.build import BuildConfig
from talkingub.build.verify import verify_build
from talkingub.cli import main
from talkingub.config import config_hash

pytestmark = pytest.mark.slow


@pytest.fixture()
def copy(small_build: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(small_build, target)
    return target


def rewrite(path: Path, frame: pd.DataFrame) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema_meta = pq.read_schema(path).metadata
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(schema_meta)
    pq.write_table(table, path)


def test_clean_build_verifies_and_cli_exits_zero(copy: Path) -> None:
    assert verify_build(copy) == []
    result = CliRunner().invoke(main, ["verify", str(copy)])
    assert result.exit_code == 0, result.output


def test_flipped_byte_in_a_shard(copy: Path) -> None:
    shard = sorted((copy / "shards").glob("*.tar"))[0]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    problems = verify_build(copy)
    assert any("sha256 does not match" in p and shard.name in p for p in problems)
    result = CliRunner().invoke(main, ["verify", str(copy)])
    assert result.exit_code == 1 and "problem:" in result.output


def test_deleted_shard(copy: Path) -> None:
    shard = sorted((copy / "shards").glob("*.tar"))[0]
    shard.unlink()
    problems = verify_build(copy)
    assert any("listed in SHA256SUMS but missing" in p for p in problems)
    assert any("missing" in p and "clip rows point at it" in p for p in problems)


def test_manifest_row_pointing_at_a_missing_sample(copy: Path) -> None:
    clips = pd.read_parquet(copy / "clips.parquet")
    ghost = clips[clips["shard"].notna()].iloc[[0]].copy()
    ghost["clip_id"] = "ghost-s000-f000000"
    rewrite(copy / "clips.parquet", pd.concat([clips, ghost]))
    problems = verify_build(copy)
    assert any("ghost-s000-f000000" in p and "no complete sample" in p for p in problems)


def test_identity_in_both_splits(copy: Path) -> None:
    videos = pd.read_parquet(copy / "videos.parquet")
    leak = videos.iloc[[0]].copy()
    leak["video_id"] = "leak"
    leak["split"] = "test" if videos.iloc[0]["split"] == "train" else "train"
    rewrite(copy / "videos.parquet", pd.concat([videos, leak]))
    problems = verify_build(copy)
    assert any("in both splits" in p and str(videos.iloc[0]["identity"]) in p for p in problems)


def test_wrong_schema_version(copy: Path) -> None:
    import pyarrow.parquet as pq

    path = copy / "clips.parquet"
    old = pq.read_table(path).replace_schema_metadata({b"talkingub.schema": b"talking-ub/0/clips"})
    pq.write_table(old, path)
    problems = verify_build(copy)
    assert any(p.startswith("clips.parquet: schema 'talking-ub/0/clips'") for p in problems)
    result = CliRunner().invoke(main, ["verify", str(copy)])
    assert result.exit_code == 1 and "talking-ub/0/clips" in result.output


def test_build_json_records_real_provenance(small_build: Path) -> None:
    import av
    import yt_dlp.version

    from talkingub.tools.ffmpeg import ffmpeg_binary

    meta = json.loads((small_build / "build.json").read_text())
    found = meta["provenance"]
    assert found["talkingub"] == talkingub.__version__ == importlib.metadata.version("talkingub")
    assert found["config_hash"] == meta["config_hash"] == config_hash(BuildConfig())
    backend = BuildConfig().analysis.backend
    assert found["analysis_backends"] == [f"{backend} {importlib.metadata.version(backend)}"]
    assert found["packages"]["yt-dlp"] == yt_dlp.version.__version__
    assert found["packages"]["av"] == av.__version__
    banner = subprocess.run([ffmpeg_binary(), "-version"], capture_output=True, text=True)
    assert found["ffmpeg"] and found["ffmpeg"] in banner.stdout.splitlines()[0]
    assert found["libav"] == av.ffmpeg_version_info
