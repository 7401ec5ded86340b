"""Selection on real media the peers do not show as such: a swaying speaker over a still
background is kept, one who leaves the frame is split with honest reasons, a 2x2 grid of four
people is `multiple_people`, and single face-detection misses do not split a clip."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from talkingub.curate import BuildConfig, BuildRun, run
from talkingub.fetch import FetchConfig
from tests.support.dropping_backend import ENV, NAME
from tests.support.media import swaying_person, tiled

pytestmark = pytest.mark.slow


def build(manifest: Path, out: Path, **kw: object) -> Path:
    fetch = FetchConfig(manifest=manifest, out_dir=out, progress=False)
    run(BuildRun(out_dir=out, fetch=fetch, progress=False, **kw))  # type: ignore[arg-type]
    return out


@pytest.fixture(scope="module")
def derived(
    presenter_chest_up_mp4: Path,
    swalwell_mp4: Path,
    aoc_wide_mp4: Path,
    obama_mov: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    folder = tmp_path_factory.mktemp("derived")
    sway = swaying_person(presenter_chest_up_mp4, folder / "sway.mp4", amplitude=80)
    leave = swaying_person(presenter_chest_up_mp4, folder / "leave.mp4", amplitude=250)
    grid = tiled([presenter_chest_up_mp4, swalwell_mp4, aoc_wide_mp4, obama_mov], folder / "g.mp4")
    manifest = folder / "manifest.csv"
    manifest.write_text(
        f"video_id,url,identity\nsway,{sway},sway\nleave,{leave},leave\ngrid,{grid},grid\n"
    )
    return build(manifest, folder / "out", workers=2)


def clips_of(out: Path, vid: str) -> pd.DataFrame:
    clips = pd.read_parquet(out / "clips.parquet")
    return clips[clips["video_id"] == vid].sort_values("start")


def test_a_naturally_swaying_speaker_over_a_still_background_is_kept(derived: Path) -> None:
    clips = clips_of(derived, "sway")
    assert clips["status"].tolist() == ["kept"]
    clip = clips.iloc[0]
    # the face centre sways over a quarter of the crop: the old jitter rule (0.15) dropped it
    assert clip["score_crop_jitter"] > 0.2
    assert clip["score_bg_drift_max"] < 1.0
    frames = pd.read_parquet(derived / "frames.parquet")
    mine = frames[(frames["video_id"] == "sway") & frames["analysed"]]
    x0, side = clip["crop_x0"], clip["crop_side"]
    for pose in mine["pose"]:  # both shoulders inside the static crop on every analysed frame
        for point in (pose[11], pose[12]):
            assert x0 <= point[0] <= x0 + side


def test_a_speaker_leaving_the_frame_is_split_with_the_right_reasons(derived: Path) -> None:
    clips = clips_of(derived, "leave")
    assert len(clips) > 1 and (clips["status"] == "rejected").all()
    assert set(clips["reason"]) <= {"no_upper_body", "too_short", "person_leaves_crop"}
    assert "no_upper_body" in set(clips["reason"])
    assert clips["start"].tolist()[1:] == clips["end"].tolist()[:-1]  # consecutive segments
    frames = pd.read_parquet(derived / "frames.parquet")
    out = frames[(frames["video_id"] == "leave") & (frames["gate"] == "no_upper_body")]
    assert len(out) and not out["shoulders_in_frame"].any()


def test_a_grid_of_four_peer_clips_is_multiple_people(derived: Path) -> None:
    videos = pd.read_parquet(derived / "videos.parquet").set_index("video_id")
    assert (videos.loc["grid", "status"], videos.loc["grid", "reason"]) == (
        "rejected",
        "multiple_people",
    )


def dropping(presenter: Path, tmp_path: Path, drop: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(ENV, drop)
    manifest = tmp_path / f"m-{drop or 'none'}.csv"
    manifest.write_text(f"video_id,url,identity\np,{presenter},p\n")
    base = BuildConfig()
    analysis = dataclasses.replace(
        base.analysis, backend=NAME, plugins=("tests.support.dropping_backend",)
    )
    recipe = dataclasses.replace(base, analysis=analysis)
    out = tmp_path / f"out-{drop.replace(',', '-') or 'none'}"
    return build(manifest, out, recipe=recipe, workers=1, executor="serial")


def test_single_detection_misses_do_not_split_a_clip_and_a_longer_gap_does(
    presenter_chest_up_mp4: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = clips_of(dropping(presenter_chest_up_mp4, tmp_path, "", monkeypatch), "p")
    assert whole["status"].tolist() == ["kept"]
    out = dropping(presenter_chest_up_mp4, tmp_path, "5,12", monkeypatch)
    clips = clips_of(out, "p")
    assert clips[["status", "start", "end"]].values.tolist() == (
        whole[["status", "start", "end"]].values.tolist()
    )
    assert clips.iloc[0]["score_n_bridged"] == 2
    frames = pd.read_parquet(out / "frames.parquet")
    bridged = frames[frames["bridged"]]
    assert len(bridged) == 2 and set(bridged["gate"]) == {"no_face"}
    assert (bridged["status"] == "kept").all()
    split = clips_of(dropping(presenter_chest_up_mp4, tmp_path, "8,9,10", monkeypatch), "p")
    assert split["reason"].fillna("kept").tolist() == ["kept", "no_face", "kept"]
