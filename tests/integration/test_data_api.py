"""`talkingub.data` on a small real build (three peer clips, two training identities, one
test identity): `load_build` gives the files' tables, `TalkingUBClips` the sampled (or all)
frames of each kept clip with their face boxes, the same items in a 2-worker DataLoader as
in one process, `TalkingUBPairs` the bench's pairs (the same in workers, augmentations off:
the shard's own frames), the webdataset hook the frames `TalkingUBClips` gives, and a folder
that is not a build (or of another schema version) is refused with one line."""

from __future__ import annotations

import json
import pickle
import shutil
import tarfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from talkingub.data import TalkingUBClips, TalkingUBPairs, load_build, mp4_decoder
from talkingub.errors import ConfigError, SchemaVersionError
from talkingub.manifest.schema import OUTPUT_TABLES, SCHEMA_KEY
from tests.integration.conftest import peer_build
from tests.support.recipes import MECHANICS

pytestmark = [pytest.mark.slow, pytest.mark.peers]

SIDE = 256  # the shard mp4's side
Split = Literal["train", "test"]


@pytest.fixture(scope="module")
def build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [
        (vid, request.getfixturevalue(fixture), split)
        for vid, fixture, split in (
            ("presenter", "presenter_chest_up_mp4", "train"),
            ("swalwell", "swalwell_mp4", "train"),
            ("aoc", "aoc_wide_mp4", "test"),
        )
    ]
    return peer_build(tmp_path_factory.mktemp("data-api"), rows, MECHANICS)


def kept(build: Path, split: str) -> pd.DataFrame:
    clips = pd.read_parquet(build / "clips.parquet")
    chosen = clips[(clips["status"] == "kept") & clips["shard"].notna()]
    return chosen[chosen["split"] == split].set_index("clip_id").sort_index()


def sampled_rows(build: Path, clip_id: str) -> pd.DataFrame:
    frames = pd.read_parquet(build / "frames.parquet")
    rows = frames[frames["sampled"].eq(True) & (frames["clip_id"] == clip_id)]
    return rows.sort_values("clip_frame")


def shard_members(build: Path, clip_id: str) -> tuple[bytes, dict[str, Any]]:
    """The clip's mp4 bytes and json, read straight from its tar."""
    shard = str(pd.read_parquet(build / "clips.parquet").set_index("clip_id").at[clip_id, "shard"])
    with tarfile.open(build / "shards" / shard) as tar:
        mp4 = tar.extractfile(f"{clip_id}.mp4")
        meta = tar.extractfile(f"{clip_id}.json")
        assert mp4 is not None and meta is not None
        return mp4.read(), json.loads(meta.read())


def decode_all(data: bytes) -> np.ndarray:
    """An independent decode of every frame (PyAV), uint8 [T, H, W, 3]."""
    import io

    import av

    with av.open(io.BytesIO(data), mode="r") as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def as_uint8(frames: torch.Tensor) -> np.ndarray:
    """[T, 3, H, W] float in [0, 1] -> uint8 [T, H, W, 3]."""
    return (frames * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def same_item(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.keys() != b.keys():
        return False
    for key, value in a.items():
        other = b[key]
        if isinstance(value, torch.Tensor):
            if not (isinstance(other, torch.Tensor) and torch.equal(value, other)):
                return False
        elif value != other:
            return False
    return True


# load_build


def test_load_build_tables_are_the_files(build: Path) -> None:
    tables = load_build(build)
    assert tables.root == build
    assert tables.build == json.loads((build / "build.json").read_text())
    assert tables.build["schema"] == "talking-ub/2"
    for name in OUTPUT_TABLES:
        frame = getattr(tables, name)
        assert isinstance(frame, pd.DataFrame) and len(frame) > 0, name
        pd.testing.assert_frame_equal(frame, pd.read_parquet(build / f"{name}.parquet"))
    for split in ("train", "test"):
        chosen = tables.kept_clips(split)["clip_id"]
        assert sorted(chosen) == list(kept(build, split).index)
    assert len(tables.kept_clips()) == 3


# TalkingUBClips


@pytest.mark.parametrize("split", ["train", "test"])
def test_clips_hold_each_clips_sampled_frames_and_face_boxes(build: Path, split: Split) -> None:
    expected = kept(build, split)
    dataset = TalkingUBClips(build, split=split)
    assert len(dataset) == len(expected) > 0
    assert [dataset[i]["clip_id"] for i in range(len(dataset))] == list(expected.index)
    for i in range(len(dataset)):
        item = dataset[i]
        clip = expected.loc[item["clip_id"]]
        rows = sampled_rows(build, item["clip_id"])
        n = int(clip["n_sampled"])
        assert n == len(rows) > 1
        assert item["frames"].shape == (n, 3, SIDE, SIDE)
        assert item["frames"].dtype == torch.float32
        assert float(item["frames"].min()) >= 0 and float(item["frames"].max()) <= 1
        assert item["frame_index"].tolist() == rows["clip_frame"].tolist()
        boxes = item["face_boxes"]
        assert boxes.shape == (n, 4) and boxes.dtype == torch.float32
        assert (
            bool(torch.isfinite(boxes).all()) and 0 <= float(boxes.min()) <= float(boxes.max()) <= 1
        )
        assert bool((boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all())
        np.testing.assert_allclose(boxes.numpy(), np.stack(rows["face_box_crop"]), atol=1e-6)
        assert (item["video_id"], item["identity"]) == (clip["video_id"], clip["identity"])
        assert item["fps"] == pytest.approx(float(clip["fps"]))
        # the frames are the mp4's frames at frame_index (decoded independently here)
        mp4, _ = shard_members(build, item["clip_id"])
        np.testing.assert_array_equal(
            as_uint8(item["frames"]), decode_all(mp4)[item["frame_index"].numpy()]
        )


def test_clips_all_frames_with_a_resize(build: Path) -> None:
    expected = kept(build, "train")
    sampled = TalkingUBClips(build, split="train")
    dataset = TalkingUBClips(build, split="train", frames="all", size=64)
    assert len(dataset) == len(expected)
    for i in range(len(dataset)):
        item = dataset[i]
        n = int(expected.at[item["clip_id"], "n_frames"])
        assert n > int(expected.at[item["clip_id"], "n_sampled"])
        assert item["frames"].shape == (n, 3, 64, 64)
        assert item["frame_index"].tolist() == list(range(n))
        boxes = item["face_boxes"]
        assert boxes.shape == (n, 4)
        found = boxes[torch.isfinite(boxes).all(1)]
        assert len(found) > 0 and 0 <= float(found.min()) <= float(found.max()) <= 1
        # the sampled frames' boxes are the same rows of the all-frames item
        picks = sampled[i]["frame_index"]
        assert torch.equal(boxes[picks], sampled[i]["face_boxes"])


def test_clips_transform_maps_the_item(build: Path) -> None:
    dataset = TalkingUBClips(build, split="test", transform=_first_frame)
    item = dataset[0]
    assert item["frames"].shape == (1, 3, SIDE, SIDE) and item["face_boxes"].shape == (1, 4)


def _first_frame(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "frames": item["frames"][:1], "face_boxes": item["face_boxes"][:1]}


def _loader_items(dataset: torch.utils.data.Dataset[Any], n: int) -> list[dict[str, Any]]:
    """Items 0..n-1 through a 2-worker DataLoader of spawned processes (the dataset is
    pickled to them, as on macOS / Windows or with CUDA)."""
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=None,
        sampler=range(n),
        num_workers=2,
        multiprocessing_context="spawn",
    )
    return list(loader)


def test_clips_two_worker_loader_gives_the_single_process_items(build: Path) -> None:
    dataset = TalkingUBClips(build, split="train", size=128)
    single = [dataset[i] for i in range(len(dataset))]
    again = pickle.loads(pickle.dumps(dataset))  # after reading: no decoded frames travel
    assert again._store is None and again.clips == dataset.clips
    workers = _loader_items(dataset, len(dataset))
    assert len(workers) == len(single) == 2
    assert all(same_item(a, b) for a, b in zip(single, workers))
    assert not same_item(single[0], single[1])


# TalkingUBPairs


def _train_frames(build: Path) -> list[torch.Tensor]:
    return [f for item in TalkingUBClips(build, split="train") for f in item["frames"]]


def test_pairs_without_augmentation_are_two_frames_of_one_training_clip(build: Path) -> None:
    pairs = TalkingUBPairs(build, length=6)
    assert len(pairs) == 6
    clips = TalkingUBClips(build, split="train")
    frames = {c["clip_id"]: c["frames"] for c in clips}
    for i in range(len(pairs)):
        item = pairs[i]
        assert set(item) == {"source", "driving"}
        assert item["source"].shape == item["driving"].shape == (3, SIDE, SIDE)
        owners = [
            {cid for cid, f in frames.items() if any(torch.equal(x, g) for g in f)}
            for x in (item["source"], item["driving"])
        ]
        assert len(owners[0]) == 1 and owners[0] == owners[1], i  # both of the same clip
        assert not torch.equal(item["source"], item["driving"])
    assert len(TalkingUBPairs(build)) == 2  # default length: each training video once


def test_pairs_with_augmentation_and_faces(build: Path) -> None:
    plain = TalkingUBPairs(build, image_size=128, face_size=32, length=4)
    augmented = TalkingUBPairs(build, image_size=128, face_size=32, length=4, augment=True)
    for i in range(len(plain)):
        item = augmented[i]
        assert item["source"].shape == (3, 128, 128) and item["source_face"].shape == (3, 32, 32)
        assert item["driving_face_box"].shape == (4,)
        assert not torch.equal(item["source"], plain[i]["source"])  # jittered
        assert same_item(item, augmented[i])  # pair i depends only on (seed, i)
    other_seed = TalkingUBPairs(build, image_size=128, face_size=32, length=4, seed=1)
    assert any(not same_item(other_seed[i], plain[i]) for i in range(4))


def test_pairs_two_worker_loader_gives_the_single_process_items(build: Path) -> None:
    pairs = TalkingUBPairs(build, image_size=64, face_size=32, length=6, augment=True)
    single = [pairs[i] for i in range(len(pairs))]
    workers = _loader_items(pairs, len(pairs))
    assert len(workers) == 6
    assert all(same_item(a, b) for a, b in zip(single, workers))


# webdataset


@pytest.mark.parametrize("split", ["train", "test"])
def test_webdataset_hook_decodes_the_frames_talkingubclips_gives(build: Path, split: Split) -> None:
    import webdataset as wds

    clips = {item["clip_id"]: item for item in TalkingUBClips(build, split=split)}
    urls = [str(p) for p in sorted((build / "shards").glob(f"{split}-*.tar"))]
    samples = list(wds.WebDataset(urls, shardshuffle=False).decode(mp4_decoder))
    assert sorted(s["__key__"] for s in samples) == sorted(clips)
    for sample in samples:
        video, meta = sample["mp4"], sample["json"]
        assert isinstance(meta, dict)  # webdataset's own json handler still ran
        assert video.dtype == np.uint8 and video.shape == (meta["n_frames"], SIDE, SIDE, 3)
        item = clips[sample["__key__"]]
        assert item["frame_index"].tolist() == meta["sampled_frames"]
        np.testing.assert_array_equal(video[meta["sampled_frames"]], as_uint8(item["frames"]))


def test_mp4_decoder_leaves_other_members_alone(build: Path) -> None:
    clip_id = str(kept(build, "test").index[0])
    mp4, meta = shard_members(build, clip_id)
    assert mp4_decoder(".json", json.dumps(meta).encode()) is None
    assert mp4_decoder(".mp4.json", b"{}") is None
    frames = mp4_decoder(".mp4", mp4)
    assert frames is not None and frames.shape == (meta["n_frames"], SIDE, SIDE, 3)
    np.testing.assert_array_equal(frames, decode_all(mp4))


# refusals


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_a_folder_that_is_not_a_build_is_refused(tmp_path: Path, build: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    for load in (load_build, TalkingUBClips, TalkingUBPairs):
        with pytest.raises(ConfigError) as exc:
            load(tmp_path)
        assert str(tmp_path) in one_line(exc)
    with pytest.raises(ConfigError, match=r"missing build\.json, videos\.parquet"):
        load_build(tmp_path)
    with pytest.raises(ConfigError, match="no such folder"):
        load_build(tmp_path / "absent")
    partial = _copy_tables(build, tmp_path / "partial")
    (partial / "frames.parquet").unlink()
    with pytest.raises(ConfigError, match=r"missing frames\.parquet$"):
        load_build(partial)
    listed = _copy_tables(build, tmp_path / "listed")
    (listed / "build.json").write_text("[]")
    with pytest.raises(ConfigError, match="not a JSON object"):
        load_build(listed)


def test_another_schema_version_is_refused(tmp_path: Path, build: Path) -> None:
    newer = _copy_tables(build, tmp_path / "newer")
    meta = json.loads((newer / "build.json").read_text())
    (newer / "build.json").write_text(json.dumps({**meta, "schema": "talking-ub/3"}))
    for load in (load_build, TalkingUBClips):
        with pytest.raises(SchemaVersionError) as exc:
            load(newer)
        assert "'talking-ub/3'" in one_line(exc) and "talking-ub/2" in one_line(exc)
    table = _copy_tables(build, tmp_path / "table")
    path = table / "frames.parquet"
    data = pq.read_table(path)
    pq.write_table(data.replace_schema_metadata({SCHEMA_KEY: b"talking-ub/3/frames"}), path)
    with pytest.raises(SchemaVersionError, match="talking-ub/3/frames"):
        load_build(table)
    assert len(load_build(_copy_tables(build, tmp_path / "same")).frames) > 0


def test_bad_arguments_are_refused(build: Path) -> None:
    with pytest.raises(ConfigError, match="split must be one of"):
        TalkingUBClips(build, split="val")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="frames must be one of"):
        TalkingUBClips(build, frames="every")  # type: ignore[arg-type]


def _copy_tables(build: Path, folder: Path) -> Path:
    """build.json and the tables of `build` (no shards) in `folder`."""
    folder.mkdir()
    for name in ("build.json", *(f"{t}.parquet" for t in OUTPUT_TABLES)):
        shutil.copy2(build / name, folder / name)
    return folder
