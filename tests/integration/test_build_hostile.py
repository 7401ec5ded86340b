"""Hostile inputs: each yields a row with a status and a reason, and never stops the build."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from talkingub.curate import BuildConfig, BuildRun, run
from talkingub.fetch import FetchConfig
from tests.support import hostile
from tests.support.loopback_http import Route, serve
from tests.support.media import read_frames

pytestmark = pytest.mark.slow


@dataclasses.dataclass(frozen=True)
class HostileRun:
    out: Path
    files: dict[str, Path]  # video_id -> generated hostile source


@pytest.fixture(scope="module")
def hostile_run(
    presenter_chest_up_mp4: Path,
    swalwell_mp4: Path,
    peers_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> HostileRun:
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
        latin = b"latin,%s,caf\xe9-owner,caf\xe9\n" % str(p).encode()  # Latin-1, not UTF-8
        manifest.write_bytes(("\n".join(rows) + "\n").encode() + latin)
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
    return HostileRun(out, files)


@pytest.fixture(scope="module")
def hostile_build(hostile_run: HostileRun) -> pd.DataFrame:
    return pd.read_parquet(hostile_run.out / "videos.parquet")


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


INVALID = {  # manifest row -> (column named in the error, what the message says)
    "../escape": ("video_id", "unsafe video_id '../escape'"),
    "/etc/abs": ("video_id", "unsafe video_id '/etc/abs'"),
    "ftp-row": ("url", "URL scheme 'ftp' not allowed"),
    "good1": ("video_id", "duplicate video_id 'good1'"),
}


def test_invalid_rows_are_recorded_not_fatal(hostile_build: pd.DataFrame) -> None:
    invalid = hostile_build[hostile_build["reason"] == "invalid_row"]
    assert sorted(invalid["video_id"]) == sorted(INVALID)
    assert (invalid["status"] == "skipped").all()
    for video_id, detail in zip(invalid["video_id"], invalid["detail"]):
        column, message = INVALID[video_id]
        assert f"column '{column}'" in detail and message in detail, detail


def test_rotation_vfr_and_latin1_rows_are_processed(hostile_build: pd.DataFrame) -> None:
    videos = hostile_build.set_index("video_id")
    for vid in ("rotated", "vfr", "latin"):
        assert videos.loc[vid, "status"] == "kept", videos.loc[vid, ["reason", "detail"]]


def test_rotated_video_is_recorded_and_cropped_upright(hostile_run: HostileRun) -> None:
    video = pd.read_parquet(hostile_run.out / "videos.parquet").set_index("video_id")
    coded_w, coded_h = hostile.coded_size(hostile_run.files["rotated"])
    assert coded_h > coded_w  # stored lying on its side ...
    assert (video.loc["rotated", "width"], video.loc["rotated", "height"]) == (coded_h, coded_w)
    clips = pd.read_parquet(hostile_run.out / "clips.parquet")
    kept = clips[(clips["video_id"] == "rotated") & (clips["status"] == "kept")]
    assert len(kept) >= 1
    clip = hostile_run.out / "work" / "rotated" / "clips" / kept.iloc[0]["file"]
    for image in read_frames(clip)[::40]:
        assert image.shape[:2] == (256, 256)
        assert upright_faces(image) == 1  # ... and shown upright: a frontal face is found
        assert upright_faces(np.ascontiguousarray(np.rot90(image))) == 0  # the check can fail


def upright_faces(image: np.ndarray) -> int:
    """Faces dlib's HOG frontal detector finds; it does not find faces turned by 90 degrees."""
    import dlib

    return len(dlib.get_frontal_face_detector()(image, 1))


def test_variable_frame_rate_counts_decoded_frames(hostile_run: HostileRun) -> None:
    times = hostile.frame_times(hostile_run.files["vfr"])
    steps = {round(b - a, 4) for a, b in itertools.pairwise(times)}
    assert len(steps) > 1  # the source really has irregular frame times
    video = pd.read_parquet(hostile_run.out / "videos.parquet").set_index("video_id")
    assert video.loc["vfr", "frames"] == len(times)


def test_non_utf8_text_is_recorded_with_replacement_characters(hostile_build: pd.DataFrame) -> None:
    identity = hostile_build.set_index("video_id").loc["latin", "identity"]
    assert identity == "caf\ufffd-owner"


def test_good_rows_are_unaffected(hostile_build: pd.DataFrame) -> None:
    first = hostile_build.drop_duplicates("video_id", keep="first").set_index("video_id")
    assert first.loc["good1", "status"] == "kept"
    # the head-and-shoulders clip is decided on its merits (too little torso), not failed
    assert (first.loc["good2", "status"], first.loc["good2", "reason"]) == (
        "rejected",
        "no_upper_body",
    )
    assert len(hostile_build) == 17  # one row per manifest row, the invalid ones included


def test_a_frame_over_max_pixels_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real 6144x3072 H.264 file (18.9 MP, over the 17.7 MP default) is refused from its
    probed size; the decoder is never opened on it."""
    from talkingub.curate import unit

    big = hostile.banner(tmp_path, size=(6144, 3072), frames=2)
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"video_id,url,identity\nbig,{big},big\n")

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded a frame over max_pixels")

    monkeypatch.setattr(unit, "decode_video", no_decoding)
    out = tmp_path / "out"
    fetch = FetchConfig(manifest=manifest, out_dir=out, progress=False)
    run(BuildRun(out_dir=out, fetch=fetch, executor="serial", workers=1, progress=False))
    video = pd.read_parquet(out / "videos.parquet").iloc[0]
    assert (video["status"], video["reason"]) == ("failed", "too_large_frame")
    assert "6144x3072" in video["detail"]
