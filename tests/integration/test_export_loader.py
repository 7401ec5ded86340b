"""The fomm/png exports against the rules of the FOMM / MRAA / TPSMM `FramesDataset` loader,
re-implemented here: `id_sampling: True` (vox-256, taichi-256, ted384) takes the name part
before `#` of each file in `root/train` as an id and reads an id's videos with the glob
`root/train/<id>*.mp4`; `is_train` picks `train/` or `test/`. And against LIA's datasets
(wyhsirius/LIA `dataset.py` at 2a5bbfa2): every entry of `root/{train,test}` is a folder whose
`sorted(glob(<entry>/*.png))` are its frames in time order, two of them drawn per training
item. The recipe asks for the presets by the training codes' names (tpsmm, lia). Exports hold
the protocol's sampled frames unless `output.export_all_frames`."""

from __future__ import annotations

import dataclasses
import glob
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from talkingub.curate import BuildConfig
from talkingub.curate.config import OutputConfig
from talkingub.curate.export import entry_name
from talkingub.curate.refilter import refilter
from tests.integration.conftest import assert_same_build, build_small
from tests.support.recipes import MECHANICS

pytestmark = pytest.mark.slow

# identities that are prefixes of one another, and one with characters a name cannot hold
IDENTITIES = {"presenter": "ab", "swalwell": "abc", "aoc": "a b#c/é*"}
RECIPE: BuildConfig = dataclasses.replace(
    MECHANICS, output=OutputConfig(export=("tpsmm", "lia", "fomm"))
)


@pytest.fixture(scope="module")
def manifest(
    presenter_chest_up_mp4: Path,
    swalwell_mp4: Path,
    aoc_wide_mp4: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    path = tmp_path_factory.mktemp("export-manifest") / "manifest.csv"
    sources = {"presenter": presenter_chest_up_mp4, "swalwell": swalwell_mp4, "aoc": aoc_wide_mp4}
    splits = {"presenter": "train", "swalwell": "train", "aoc": "test"}
    rows = [f'{vid},{sources[vid]},"{ident}",{splits[vid]}' for vid, ident in IDENTITIES.items()]
    path.write_text("video_id,url,identity,split\n" + "\n".join(rows) + "\n")
    return path


def build(manifest: Path, out: Path) -> Path:
    return build_small(manifest, out, recipe=RECIPE)


@pytest.fixture(scope="module")
def built(manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(manifest, tmp_path_factory.mktemp("export-build") / "out")


def exported_clips(out: Path) -> pd.DataFrame:
    clips = pd.read_parquet(out / "clips.parquet")
    return clips[(clips["status"] == "kept") & clips["shard"].notna()]


def loader_ids(split_dir: Path) -> set[str]:
    return {os.path.basename(name).split("#")[0] for name in os.listdir(split_dir)}


def loader_videos(split_dir: Path, video_id: str) -> list[str]:
    return glob.glob(os.path.join(split_dir, video_id + "*.mp4"))  # unescaped, as the loader


def decode(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def sampled_offsets(out: Path) -> dict[str, list[int]]:
    frames = pd.read_parquet(out / "frames.parquet")
    frames = frames[frames["sampled"].eq(True)]
    return {k: sorted(int(i) for i in g["clip_frame"]) for k, g in frames.groupby("clip_id")}


def test_fomm_export_follows_the_id_sampling_loader_rules(built: Path) -> None:
    clips = exported_clips(built)
    root = built / "export" / "fomm"
    assert (root / "train").is_dir() and (root / "test").is_dir()
    assert set(clips["split"]) == {"train", "test"}
    assert clips["identity"].nunique() == len(IDENTITIES)  # every identity kept a clip
    for split, rows in clips.groupby("split"):
        folder = root / str(split)
        names = sorted(os.listdir(folder))
        assert all(n.endswith(".mp4") and n.count("#") == 1 for n in names)
        assert names == sorted(
            f"{entry_name(c.identity, c.clip_id)}.mp4" for c in rows.itertuples()
        )
        ids = loader_ids(folder)
        assert len(ids) == rows["identity"].nunique()  # one id per identity
        for identity, group in rows.groupby("identity"):
            (video_id,) = {
                n.split("#")[0] for n in names if n.split("#", 1)[1][:-4] in set(group["clip_id"])
            }
            found = sorted(Path(p).name for p in loader_videos(folder, video_id))
            assert found == sorted(f"{entry_name(str(identity), c)}.mp4" for c in group["clip_id"])
            assert "/" not in video_id and "*" not in video_id and " " not in video_id


def test_png_export_follows_the_lia_loader_rules(built: Path) -> None:
    clips = exported_clips(built)
    offsets = sampled_offsets(built)
    root = built / "export" / "png"
    assert sorted(p.name for p in (built / "export").iterdir()) == ["fomm", "png"]  # presets
    for split, rows in clips.groupby("split"):
        folder = root / str(split)
        entries = sorted(os.listdir(folder))
        assert all((folder / e).is_dir() for e in entries)
        by_name = {entry_name(c.identity, c.clip_id): c.clip_id for c in rows.itertuples()}
        assert entries == sorted(by_name)
        for entry in entries:
            frames = sorted(glob.glob(os.path.join(folder, entry) + "/*.png"))  # as LIA globs
            assert [int(Path(f).stem) for f in frames] == offsets[by_name[entry]]
            assert split == "test" or len(frames) >= 2  # LIA draws two distinct frames


def test_exports_hold_the_sampled_frames(built: Path) -> None:
    clips = exported_clips(built)
    offsets = sampled_offsets(built)
    for clip in clips.itertuples():
        name = entry_name(clip.identity, clip.clip_id)
        exported = decode(built / "export" / "fomm" / clip.split / f"{name}.mp4")
        assert len(exported) == clip.n_sampled == len(offsets[clip.clip_id])
        full = decode(built / "work" / clip.video_id / "clips" / clip.file)
        assert len(full) == clip.n_frames
        for got, i in zip(exported, offsets[clip.clip_id]):
            assert got.shape == (256, 256, 3)
            assert np.abs(got.astype(float) - full[i].astype(float)).mean() < 3
        pngs = sorted((built / "export" / "png" / clip.split / name).iterdir())
        assert [p.name for p in pngs] == [f"{i:07d}.png" for i in offsets[clip.clip_id]]
    test = clips[clips["split"] == "test"]
    assert test.groupby("video_id")["n_sampled"].sum().le(100).all()
    train = clips[clips["split"] == "train"]
    assert (train["n_sampled"] < train["n_frames"]).all()  # 3 fps of a 22-25 fps clip


def test_export_all_frames_keeps_every_frame(built: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    refilter(copy, {"output.export_all_frames": True}, workers=1, progress=False)
    for clip in exported_clips(copy).itertuples():
        name = entry_name(clip.identity, clip.clip_id)
        mp4 = copy / "export" / "fomm" / clip.split / f"{name}.mp4"
        assert len(decode(mp4)) == clip.n_frames
        source = copy / "work" / clip.video_id / "clips" / clip.file
        assert os.path.samefile(mp4, source)  # a hard link, as before
        pngs = list((copy / "export" / "png" / clip.split / name).iterdir())
        assert len(pngs) == clip.n_frames
    # and back: the sampled export replaces the links, without touching the clips
    refilter(copy, {"output.export_all_frames": False}, workers=1, progress=False)
    for clip in exported_clips(copy).itertuples():
        name = entry_name(clip.identity, clip.clip_id)
        assert len(decode(copy / "export" / "fomm" / clip.split / f"{name}.mp4")) == clip.n_sampled
        assert len(decode(copy / "work" / clip.video_id / "clips" / clip.file)) == clip.n_frames
        pngs = list((copy / "export" / "png" / clip.split / name).iterdir())
        assert len(pngs) == clip.n_sampled
    assert (copy / "SHA256SUMS").read_text() == (built / "SHA256SUMS").read_text()


def test_sampled_exports_are_reproducible(built: Path, manifest: Path, tmp_path: Path) -> None:
    again = build(manifest, tmp_path / "again")
    listed = (again / "SHA256SUMS").read_text()
    assert (
        "export/fomm/train/ab~#" in listed and "export/png/test/a%20b%23c%2F%C3%A9%2A~#" in listed
    )
    assert_same_build(again, built)
