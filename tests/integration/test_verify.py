"""`talkingub verify` finds tampering (flipped byte, missing shard, dangling row, split leak,
wrong schema version, deleted or edited rows and files, paths out of the build folder, cut
files), each as a problem line and exit 1, never a traceback; `build.json` records what
produced the build."""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import talkingub
from talkingub.cli import main
from talkingub.config import config_hash
from talkingub.curate import BuildConfig
from talkingub.curate.shards import write_sha256sums
from talkingub.curate.verify import verify_build
from tests.support.guards import fail_after, record_verify_hashes

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


def fails_in_cli(out: Path) -> str:
    """`talkingub verify OUT` exits 1 with problem lines and no traceback; its output."""
    result = CliRunner().invoke(main, ["verify", str(out)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "problem:" in result.output and "Traceback" not in result.output
    return result.output


def test_clean_build_verifies_and_cli_exits_zero(copy: Path) -> None:
    assert verify_build(copy) == []
    result = CliRunner().invoke(main, ["verify", str(copy)])
    assert result.exit_code == 0, result.output


def test_sha256sums_lists_every_output_file_and_no_cache(small_build: Path) -> None:
    lines = (small_build / "SHA256SUMS").read_text().splitlines()
    names = [line.split("  ", 1)[1] for line in lines]
    assert names == sorted(names)
    expected = {
        *(f"{t}.parquet" for t in ("videos", "clips", "frames", "splits")),
        *("build.json", "stats.json", "funnel.md", "funnel.png", "DATASET_CARD.md"),
        *("report/index.html", "report/face_ratio.png", "report/sharpness.png"),
        *(p.relative_to(small_build).as_posix() for p in (small_build / "shards").glob("*")),
        *(
            p.relative_to(small_build).as_posix()
            for p in (small_build / "report" / "gallery").glob("*")
        ),
        *(
            p.relative_to(small_build).as_posix()
            for p in (small_build / "contact_sheets").glob("*")
        ),
        *(p.relative_to(small_build).as_posix() for p in (small_build / "export").rglob("*.mp4")),
    }
    assert set(names) == expected
    assert any(n.startswith("contact_sheets/") for n in names)
    assert any(n.startswith("export/fomm/") for n in names)
    assert any(n.startswith("report/gallery/") for n in names)
    assert not any(n.startswith(("work/", "raw/", "fetch")) for n in names)


@pytest.mark.parametrize("resummed", [False, True], ids=["as-is", "resummed"])
def test_half_the_frames_rows_deleted(copy: Path, resummed: bool) -> None:
    frames = pd.read_parquet(copy / "frames.parquet")
    rewrite(copy / "frames.parquet", frames.iloc[::2])
    if resummed:  # SHA256SUMS rewritten too: the row checks still see it
        write_sha256sums(copy)
    problems = verify_build(copy)
    if resummed:
        assert any(p.startswith("stats.json: funnel 'analysed frames' is") for p in problems)
        assert any("sampled_frames" in p and "frames.parquet" in p for p in problems)
    else:
        assert "frames.parquet: sha256 does not match SHA256SUMS" in problems
    fails_in_cli(copy)


def test_face_ratio_edited(copy: Path) -> None:
    frames = pd.read_parquet(copy / "frames.parquet")
    frames["face_ratio"] = frames["face_ratio"] * 1.01
    rewrite(copy / "frames.parquet", frames)
    assert verify_build(copy) == ["frames.parquet: sha256 does not match SHA256SUMS"]
    fails_in_cli(copy)


def test_face_box_edited_and_resummed(copy: Path) -> None:
    frames = pd.read_parquet(copy / "frames.parquet")
    row = frames.index[frames["sampled"]][0]
    frames.at[row, "face_box_crop"] = [0.0, 0.0, 1.0, 1.0]
    rewrite(copy / "frames.parquet", frames)
    write_sha256sums(copy)
    problems = verify_build(copy)
    assert any("face_boxes != face_box_crop" in p for p in problems), problems
    fails_in_cli(copy)


def test_shard_json_edited_and_resummed(copy: Path) -> None:
    shard = sorted((copy / "shards").glob("*.tar"))[0]
    with tarfile.open(shard) as tar:
        members = [(info, tar.extractfile(info).read()) for info in tar.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(shard, "w") as tar:
        for info, data in members:
            if info.name.endswith(".json"):
                meta = json.loads(data)
                meta["sampled_frames"] = meta["sampled_frames"][:-1]
                data = json.dumps(meta).encode()
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    write_sha256sums(copy)
    problems = verify_build(copy)
    assert any("json sampled_frames" in p for p in problems), problems
    assert any("the shards hold" in p for p in problems), problems


@pytest.mark.parametrize("name", ["build.json", "stats.json"])
@pytest.mark.parametrize("resummed", [False, True], ids=["as-is", "resummed"])
def test_report_file_deleted(copy: Path, name: str, resummed: bool) -> None:
    (copy / name).unlink()
    if resummed:
        write_sha256sums(copy)
    problems = verify_build(copy)
    assert f"{name}: missing" in problems
    if not resummed:
        assert f"{name}: listed in SHA256SUMS but missing" in problems
    fails_in_cli(copy)


@pytest.mark.parametrize("name", ["build.json", "stats.json"])
def test_report_file_not_json(copy: Path, name: str) -> None:
    (copy / name).write_text('{"funnel": ')
    write_sha256sums(copy)
    problems = verify_build(copy)
    assert any(p.startswith(f"{name}: unreadable JSON") for p in problems), problems
    fails_in_cli(copy)


@pytest.mark.parametrize("resummed", [False, True], ids=["as-is", "resummed"])
def test_export_clip_deleted(copy: Path, resummed: bool) -> None:
    exported = sorted((copy / "export" / "fomm").rglob("*.mp4"))[0]
    exported.unlink()
    if resummed:
        write_sha256sums(copy)
    name = exported.relative_to(copy).as_posix()
    problems = verify_build(copy)
    assert f"{name}: missing (a kept clip)" in problems
    if not resummed:
        assert f"{name}: listed in SHA256SUMS but missing" in problems
    fails_in_cli(copy)


def test_unlisted_output_file(copy: Path) -> None:
    extra = copy / "export" / "fomm" / "train" / "stray.mp4"
    extra.write_bytes(b"not a clip")
    problems = verify_build(copy)
    assert "export/fomm/train/stray.mp4: an output file not listed in SHA256SUMS" in problems
    assert "export/fomm/train/stray.mp4: exported, but no kept clip" in problems


@pytest.fixture()
def no_hang() -> Iterator[None]:
    """Fail (rather than block forever) if anything opens the FIFO for reading."""
    with fail_after(60, "verify opened a file outside the build folder"):
        yield


def test_sums_lines_pointing_outside_are_never_read(
    copy: Path, tmp_path: Path, no_hang: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "outside.fifo"  # reading it would block: the test would time out
    os.mkfifo(fifo)
    (copy / "shards" / "escape.tar").symlink_to(fifo)
    hashed = record_verify_hashes(monkeypatch)
    lines = {
        "../outside.fifo": "not a plain relative path",
        "../../../../etc/passwd": "not a plain relative path",
        str(fifo): "not a plain relative path",
        "shards/escape.tar": "resolves outside the build folder",
    }
    with open(copy / "SHA256SUMS", "a") as handle:
        handle.writelines(f"{'0' * 64}  {name}\n" for name in lines)
    problems = verify_build(copy)
    for name, why in lines.items():
        assert any(p.startswith(repr(name)) and why in p for p in problems), (name, problems)
    assert hashed and all(p.resolve().is_relative_to(copy.resolve()) for p in hashed)
    fails_in_cli(copy)


@pytest.mark.parametrize("resummed", [False, True], ids=["as-is", "resummed"])
def test_truncated_frames_parquet(copy: Path, resummed: bool) -> None:
    path = copy / "frames.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    if resummed:
        write_sha256sums(copy)
    problems = verify_build(copy)
    assert any(p.startswith("frames.parquet: unreadable Parquet") for p in problems), problems
    output = fails_in_cli(copy)
    assert "frames.parquet: unreadable Parquet" in output


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
