"""`talkingub build` on real peer clips (offline): the Talking-UB protocol end to end."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from talkingub.curate import BuildConfig, BuildRun, run
from talkingub.curate.analysis import ANALYZERS
from talkingub.curate.refilter import refilter
from talkingub.errors import PluginError
from talkingub.fetch import FetchConfig
from tests.support.media import concatenated, panned, read_frames
from tests.support.recipes import MECHANICS

pytestmark = pytest.mark.slow

PEER_ROWS = {
    # video_id: (fixture name, identity)
    "presenter": ("presenter_chest_up_mp4", "presenter-man"),
    "swalwell": ("swalwell_mp4", "swalwell"),
    "aoc-wide": ("aoc_wide_mp4", "aoc"),
    "aoc-hdtf": ("aoc_hdtf_mp4", "aoc"),
    "ted384": ("ted_speaker_mp4", "ted-woman"),
    "ted256": ("ted_speaker_256_duplicate_mp4", "ted-woman-256"),
    "taichi": ("taichi_full_body_mp4", "taichi-man"),
    "grid": ("ted_grid_mp4", "grid"),
}


@pytest.fixture(scope="module")
def peer_manifest(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("peer-manifest")
    rows = ["video_id,url,identity"]
    for vid, (fixture, identity) in PEER_ROWS.items():
        rows.append(f"{vid},{request.getfixturevalue(fixture)},{identity}")
    cut, _ = concatenated(
        request.getfixturevalue("presenter_chest_up_mp4"),
        request.getfixturevalue("swalwell_mp4"),
        folder / "concat.mp4",
    )
    pan = panned(request.getfixturevalue("presenter_chest_up_mp4"), folder / "pan.mp4", 560, 140)
    rows += [f"concat,{cut},concat-pair", f"pan,{pan},pan-person"]
    path = folder / "manifest.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def build(manifest: Path, out: Path, **kw: object) -> Path:
    """Builds with the MECHANICS recipe unless told otherwise (several kept identities)."""
    kw.setdefault("recipe", MECHANICS)
    fetch = FetchConfig(manifest=manifest, out_dir=out, progress=False)
    run(BuildRun(out_dir=out, fetch=fetch, workers=2, progress=False, **kw))  # type: ignore[arg-type]
    return out


@pytest.fixture(scope="module")
def built(peer_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(peer_manifest, tmp_path_factory.mktemp("build") / "out")


def table(out: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(out / f"{name}.parquet")


def test_every_input_row_and_sequence_has_a_status_and_reason(built: Path) -> None:
    videos = table(built, "videos").set_index("video_id")
    assert set(videos.index) == {*PEER_ROWS, "concat", "pan"}
    assert videos["status"].isin(["kept", "rejected", "failed", "skipped"]).all()
    not_kept = videos[videos["status"] != "kept"]
    assert not_kept["reason"].notna().all()
    clips = table(built, "clips")
    assert clips.loc[clips["status"] == "rejected", "reason"].notna().all()


def test_chest_up_kept_full_body_and_grid_rejected_with_reasons(built: Path) -> None:
    videos = table(built, "videos").set_index("video_id")
    assert videos.loc["presenter", "status"] == "kept"
    assert videos.loc["swalwell", "status"] == "kept"
    assert (videos.loc["taichi", "status"], videos.loc["taichi", "reason"]) == (
        "rejected",
        "face_ratio_low",
    )
    assert (videos.loc["grid", "status"], videos.loc["grid", "reason"]) == (
        "rejected",
        "multiple_people",
    )
    frames = table(built, "frames")
    kept = frames[frames["sampled"]]
    band = BuildConfig().filters
    assert kept["face_ratio"].between(band.face_ratio_min, band.face_ratio_max).all()


def test_kept_clips_are_256_and_every_sampled_frame_shows_a_face(built: Path) -> None:
    import dlib

    detector = dlib.get_frontal_face_detector()
    clips = table(built, "clips")
    kept = clips[(clips["status"] == "kept") & (clips["n_sampled"] > 0)]
    frames = table(built, "frames")
    misses, total = 0, 0
    for clip in kept.itertuples():
        video = read_frames(built / "work" / clip.video_id / "clips" / clip.file)
        assert video[0].shape == (256, 256, 3)
        assert len(video) == clip.n_frames
        picks = frames[(frames["clip_id"] == clip.clip_id) & frames["sampled"]]["clip_frame"]
        for index in picks.astype(int).tolist()[::3]:
            total += 1
            misses += len(detector(video[index], 1)) == 0
    assert total > 50
    assert misses == 0, f"dlib found no face in {misses}/{total} sampled output frames"


def test_concatenation_is_split_at_the_cut_and_a_pan_is_rejected(built: Path) -> None:
    clips = table(built, "clips")
    concat = clips[clips["video_id"] == "concat"].sort_values("start")
    assert len(concat) >= 2
    bounds = set(concat["start"]) | set(concat["end"])
    assert any(abs(b - 135) <= 1 for b in bounds), bounds  # presenter clip has 135 frames
    assert not ((concat["start"] < 134) & (concat["end"] > 136)).any()
    # the shot opened by the cut records ContentDetector's score there (above its threshold)
    after_cut = concat[concat["shot"] > 0]
    assert len(after_cut) and (after_cut["score_shot_cut"] >= BuildConfig().shots.threshold).all()
    assert (concat.loc[concat["start"] == 0, "score_shot_cut"] == 0).all()
    pan = clips[clips["video_id"] == "pan"]
    assert (pan["status"] == "rejected").all()
    assert "background_moving" in set(pan["reason"])


def test_splits_are_identity_disjoint_and_duplicates_grouped(built: Path) -> None:
    videos = table(built, "videos").set_index("video_id")
    assert videos.loc["ted256", "duplicate_of"] == "ted384"
    assert videos.loc["ted256", "split"] == videos.loc["ted384", "split"]
    assert videos.loc["aoc-wide", "split"] == videos.loc["aoc-hdtf", "split"]
    per_identity = videos.groupby("identity")["split"].nunique()
    assert (per_identity == 1).all()
    kept = videos[videos["status"] == "kept"]
    assert set(kept["split"]) == {"train", "test"}


def test_sampling_train_3fps_and_test_first_100(built: Path) -> None:
    frames = table(built, "frames")
    kept = frames[frames["sampled"]]
    test = kept[kept["split"] == "test"]
    for _, rows in test.groupby("video_id"):
        assert len(rows) <= 100
        assert rows["clip_frame"].tolist()[: min(len(rows), 10)] == list(range(min(len(rows), 10)))
    train = kept[kept["split"] == "train"]
    for _, rows in train.groupby("clip_id"):
        gaps = np.diff(rows["time"].to_numpy())
        assert np.all(np.abs(gaps - 1 / 3) < 0.06), gaps


def test_outputs_read_with_pandas_duckdb_and_webdataset(built: Path) -> None:
    import webdataset as wds

    counted = duckdb.sql(
        f"select split, count(*) n from read_parquet('{built / 'frames.parquet'}') "
        "where sampled group by split order by split"
    ).fetchall()
    stats = json.loads((built / "stats.json").read_text())
    assert dict(counted) == {
        "test": stats["funnel"]["test frames"],
        "train": stats["funnel"]["train frames"],
    }
    shards = sorted(str(p) for p in (built / "shards").glob("*.tar"))
    samples = list(wds.WebDataset(shards, shardshuffle=False).decode())
    clips = table(built, "clips")
    assert {s["__key__"] for s in samples} == set(clips.loc[clips["shard"].notna(), "clip_id"])
    meta = samples[0]["json"]
    assert len(meta["face_boxes"]) == meta["n_frames"] and meta["sampled_frames"]
    listed = {line.split("  ", 1)[1] for line in (built / "SHA256SUMS").read_text().splitlines()}
    assert {f"shards/{Path(p).name}" for p in shards} <= listed
    assert {"frames.parquet", "clips.parquet", "build.json", "stats.json"} <= listed


def test_funnel_contact_sheets_and_export(built: Path) -> None:
    from PIL import Image

    assert "Talking-UB (paper)" in (built / "funnel.md").read_text()
    assert Image.open(built / "funnel.png").size[0] > 100
    videos = table(built, "videos")
    for vid in videos.loc[videos["frames"].notna(), "video_id"]:
        assert Image.open(built / "contact_sheets" / f"{vid}.png").size[0] >= 480
    # a kept sequence's tile: the frame with its box, then the crop itself (not blank)
    sheet = np.asarray(Image.open(built / "contact_sheets" / "presenter.png").convert("L"))
    assert sheet[:240, 240:480].std() > 20
    exported = sorted((built / "export" / "fomm").rglob("*.mp4"))
    clips = table(built, "clips")
    assert len(exported) == len(clips[clips["shard"].notna()])
    assert read_frames(exported[0], limit=1)[0].shape == (256, 256, 3)


def test_refilter_changes_the_kept_set_without_detection(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    entry = ANALYZERS.entry("mediapipe")

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("refilter ran detection")

    monkeypatch.setitem(ANALYZERS._entries, "mediapipe", type(entry)("mediapipe", forbidden))
    before = set(table(copy, "clips").query("status == 'kept'")["clip_id"])
    # serial: the patched registry must be the one the decisions run with (a spawned worker
    # would import a fresh, unpatched registry and the guard could not fail)
    refilter(copy, {"filters.face_ratio_min": 0.18}, workers=1, progress=False, executor="serial")
    after = set(table(copy, "clips").query("status == 'kept'")["clip_id"])
    assert before < after
    assert any(c.startswith("ted384") for c in after - before)


def test_rebuild_gives_identical_manifests_and_shards(peer_manifest: Path, tmp_path: Path) -> None:
    subset = tmp_path / "subset.csv"
    lines = peer_manifest.read_text().splitlines()
    subset.write_text("\n".join([lines[0], lines[1], lines[3], lines[4]]) + "\n")
    first = build(subset, tmp_path / "a")
    second = build(subset, tmp_path / "b")
    assert (first / "SHA256SUMS").read_text() == (second / "SHA256SUMS").read_text()
    for name in ("videos", "clips", "frames", "splits"):
        a = table(first, name).drop(columns=["url"], errors="ignore")
        b = table(second, name).drop(columns=["url"], errors="ignore")
        pd.testing.assert_frame_equal(a, b)


def small_recipe(**analysis: object) -> BuildConfig:
    base = BuildConfig()
    return dataclasses.replace(base, analysis=dataclasses.replace(base.analysis, **analysis))


def test_plugin_backend_runs_in_spawned_process_workers(
    presenter_chest_up_mp4: Path, swalwell_mp4: Path, tmp_path: Path
) -> None:
    """Workers start fresh: they know the backend only through `analysis.plugins`."""
    from tests.support.tagged_backend import NAME

    manifest = tmp_path / "m.csv"
    manifest.write_text(
        f"video_id,url,identity\np,{presenter_chest_up_mp4},p\ns,{swalwell_mp4},s\n"
    )
    recipe = small_recipe(backend=NAME, plugins=("tests.support.tagged_backend",))
    recipe = dataclasses.replace(recipe, filters=MECHANICS.filters)
    out = build(manifest, tmp_path / "out", recipe=recipe, executor="process")
    videos = table(out, "videos")
    assert (videos["status"] == "kept").all()
    backends = videos["analysis_backend"].tolist()
    assert all(b.startswith(f"{NAME} ") for b in backends), backends
    worker_pids = {int(b.rsplit("pid", 1)[1]) for b in backends}
    assert os.getpid() not in worker_pids  # analysed in the spawned workers
    meta = json.loads((out / "build.json").read_text())
    assert meta["config"]["analysis"]["plugins"] == ["tests.support.tagged_backend"]
    assert meta["provenance"]["analysis_backends"] == sorted(set(backends))
    clips = table(out, "clips")
    assert (clips["status"] == "kept").any()


def test_unknown_plugin_fails_the_build_at_once(small_build: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(small_build, copy)
    before = (copy / "videos.parquet").read_bytes()
    recipe = small_recipe(plugins=("no_such_pkg.my_backend",))
    with pytest.raises(PluginError, match=re.escape("'no_such_pkg.my_backend'")):
        run(BuildRun(out_dir=copy, recipe=recipe, stages=("process",), progress=False))
    assert (copy / "videos.parquet").read_bytes() == before  # nothing rewritten


def test_dlib68_backend_keeps_a_chest_up_clip_and_records_ratios(
    swalwell_mp4: Path, tmp_path: Path
) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"video_id,url,identity\nswalwell,{swalwell_mp4},swalwell\n")
    recipe = dataclasses.replace(
        small_recipe(backend="mediapipe+dlib68"), filters=MECHANICS.filters
    )
    out = build(manifest, tmp_path / "out", recipe=recipe, executor="serial")
    video = table(out, "videos").iloc[0]
    assert video["status"] == "kept"
    assert "dlib" in video["analysis_backend"]
    frames = table(out, "frames")
    kept = frames[frames["sampled"]]
    band = recipe.filters
    assert len(kept) > 10
    assert kept["face_ratio"].between(band.face_ratio_min, band.face_ratio_max).all()
    assert (kept["face_height"] < kept["upper_body_height"]).all()


def test_dlib68_face_spans_brows_to_chin_and_the_mesh_forehead_to_chin(
    swalwell_mp4: Path,
) -> None:
    from talkingub.curate.analysis.dlib_backend import MediaPipeDlib68Analyzer
    from talkingub.curate.analysis.mediapipe_backend import MediaPipeAnalyzer
    from talkingub.curate.decode import decode_video
    from talkingub.curate.measure import measure_frame

    config = BuildConfig()
    frames = decode_video(swalwell_mp4, config.shots, config.analysis).frames[::3]
    boxes = {}
    for backend in (MediaPipeAnalyzer(), MediaPipeDlib68Analyzer()):
        raws = backend.detect(frames)
        boxes[backend.name] = np.array(
            [measure_frame(f, r, 0.5, 16).face_box for f, r in zip(frames, raws)]
        )
        backend.close()
    mesh, dlib68 = boxes["mediapipe"], boxes["mediapipe+dlib68"]
    height = mesh[:, 3] - mesh[:, 1]
    assert np.all(dlib68[:, 1] - mesh[:, 1] > 0.08 * height)  # brows well below the forehead
    assert np.all(np.abs(dlib68[:, 3] - mesh[:, 3]) < 0.06 * height)  # both end at the chin


def test_png_export_layout(small_build: Path, tmp_path: Path) -> None:
    from PIL import Image

    from talkingub.curate.export import entry_name

    copy = tmp_path / "copy"
    shutil.copytree(small_build, copy)
    refilter(copy, {"output.export": ["fomm", "png"]}, workers=1, progress=False)
    clips = table(copy, "clips")
    exported = clips[clips["shard"].notna()]
    frames = table(copy, "frames")
    sampled = frames[frames["sampled"].eq(True)].groupby("clip_id")["clip_frame"]
    root = copy / "export" / "png"
    folders = sorted(p for p in root.glob("*/*") if p.is_dir())
    names = {c.clip_id: entry_name(c.identity, c.clip_id) for c in exported.itertuples()}
    assert [f"{p.parent.name}/{p.name}" for p in folders] == sorted(
        f"{c.split}/{names[c.clip_id]}" for c in exported.itertuples()
    )
    for clip in exported.itertuples():
        pngs = sorted((root / clip.split / names[clip.clip_id]).glob("*.png"))
        assert len(pngs) == clip.n_sampled  # the protocol's frames (export_all_frames: all)
        offsets = sorted(int(i) for i in sampled.get_group(clip.clip_id))
        assert [p.name for p in pngs] == [f"{i:07d}.png" for i in offsets]
        for png in pngs[:: max(1, len(pngs) // 5)]:
            with Image.open(png) as image:
                assert image.size == (256, 256)
    assert len(list((copy / "export" / "fomm").rglob("*.mp4"))) == len(exported)
