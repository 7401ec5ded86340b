"""Hostile inputs: each yields a row with a status and a reason, and never stops the build."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from talkingub.build import BuildConfig, BuildRun, run
from talkingub.fetch import FetchConfig
from tests.support import hostile
from tests.support.loopback_http import Route, serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hostile_build(
    presenter_chest_up_mp4: Path,
    swalwell_mp4: Path,
    peers_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> pd.DataFrame:
    media = tmp_path_factory.mktemp("hostile-media")
    p = presenter_chest_up_mp4
    files = {
        "zero": hostile.zero_byte(media),
        "truncated": hostile.truncated(p, media),
        "image": hostile.image_as_mp4(peers_dir / "lia/data/vox/macron.png", media),
        "audio": hostile.audio_only(media),
        "banner": hostile.banner(media),
        "three": hostile.three_frames(p, media),
        "long": hostile.two_hours(media),
        "rotated": hostile.rotated(p, media),
        "vfr": hostile.variable_frame_rate(p, media),
    }
    with serve({"/hang.mp4": Route.file(p, stall=30)}) as server:
        rows = [
            "video_id,url,identity,notes",
            f"good1,{p},presenter,fine",
            f"good2,{swalwell_mp4},sw,ok",
        ]
        rows += [f"{vid},{path},{vid},hostile" for vid, path in files.items()]
        rows += [
            f"hang,{server.url('/hang.mp4')},hang,stalls",
            f"../escape,{p},x,traversal",
            f"/etc/abs,{p},x,absolute",
            "ftp-row,ftp://example.org/a.mp4,x,scheme",
            f"good1,{p},presenter,duplicate row",
        ]
        manifest = media / "manifest.csv"
        manifest.write_bytes(
            ("\n".join(rows) + "\n").encode() + b"latin,%s,lat,caf\xe9\n" % str(p).encode()
        )
        out = media / "out"
        recipe = dataclasses.replace(BuildConfig(), max_duration=3600.0)
        fetch = FetchConfig(
            manifest=manifest,
            out_dir=out,
            progress=False,
            socket_timeout=1.5,
            retries=0,
            on_invalid_row="skip",
        )
        run(BuildRun(out_dir=out, recipe=recipe, fetch=fetch, workers=2, progress=False))
    return pd.read_parquet(out / "videos.parquet")


EXPECTED = {
    "zero": ("failed", "empty_file"),
    "truncated": ("failed", "corrupt"),
    "image": ("failed", "not_a_video"),
    "audio": ("failed", "no_video_stream"),
    "banner": ("failed", "bad_dimensions"),
    "three": ("rejected", "too_short"),
    "long": ("failed", "too_long"),
    "hang": ("failed", "timeout"),
}


@pytest.mark.parametrize("video_id", sorted(EXPECTED))
def test_each_hostile_input_gets_its_reason(hostile_build: pd.DataFrame, video_id: str) -> None:
    row = hostile_build.set_index("video_id").loc[video_id]
    assert (row["status"], row["reason"]) == EXPECTED[video_id]


def test_invalid_rows_are_recorded_not_fatal(hostile_build: pd.DataFrame) -> None:
    invalid = hostile_build[hostile_build["reason"] == "invalid_row"]
    assert sorted(invalid["video_id"].tolist()) == ["../escape", "/etc/abs", "ftp-row", "good1"]
    assert (invalid["status"] == "skipped").all()
    assert invalid["detail"].str.contains("row").all()


def test_rotation_vfr_and_latin1_rows_are_processed(hostile_build: pd.DataFrame) -> None:
    videos = hostile_build.set_index("video_id")
    for vid in ("rotated", "vfr", "latin"):
        assert videos.loc[vid, "status"] == "kept", videos.loc[vid, ["reason", "detail"]]


def test_good_rows_are_unaffected(hostile_build: pd.DataFrame) -> None:
    first = hostile_build.drop_duplicates("video_id", keep="first").set_index("video_id")
    assert first.loc["good1", "status"] == "kept"
    assert first.loc["good2", "status"] == "kept"
    assert len(hostile_build) == 17  # one row per manifest row, the invalid ones included
