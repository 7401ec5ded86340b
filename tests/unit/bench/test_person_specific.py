"""The person-specific track's data (issue 19): which persons get a model, which frames each
trains on (never a frame the lists score, nor one within `gap_s` of it, nor a held-back
tail), its windows, and the poses read from the build's frames.parquet (measured instants,
interpolation, crop coordinates)."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from talkingub.bench.data import ClipRecord
from talkingub.bench.holdout import Holdout
from talkingub.bench.lists import CrossItem, EvalLists, SameItem
from talkingub.bench.person_data import (
    _ranges,
    persons_needed,
    plan_person,
    used_frames,
    window_starts,
)
from talkingub.bench.person_specific import is_person_specific, person_folder
from talkingub.bench.pose_track import PoseTrack
from talkingub.errors import ConfigError
from talkingub.manifest.schema import FRAMES_SCHEMA

FPS = 10.0


def _clip(clip: str, identity: str, split: str, n: int, sampled: list[int]) -> ClipRecord:
    meta = {
        "fps": FPS,
        "n_frames": n,
        "sampled_frames": sampled,
        "source_start": 0,
        "crop_box": [10.0, 20.0, 100.0],
        "face_boxes": [[0.3, 0.1, 0.7, 0.5]] * n,
        "video_id": clip,
        "identity": identity,
        "split": split,
    }
    return ClipRecord(clip, clip, identity, split, Path("x.tar"), (0, 0), meta)


def _index(*clips: ClipRecord, root: Path = Path(".")) -> types.SimpleNamespace:
    return types.SimpleNamespace(clips={c.clip_id: c for c in clips}, root=root)


# test person A: one clip of 40 frames, the first 10 sampled for evaluation (as Talking-UB's
# first 100); training person B: 30 frames sampled every 3rd, a cross source at frame 15
A = _clip("a", "A", "test", 40, list(range(10)))
B = _clip("b", "B", "train", 30, list(range(0, 30, 3)))
LISTS = EvalLists(
    same=(SameItem("a", "a", "A", 0, (0, 1, 2, 3)),),
    cross=(CrossItem("a__x00", "a", "A", (0, 1, 2, 3), "b", "B", 15),),
    params={},
)


def test_a_model_per_test_person_and_per_cross_source() -> None:
    assert persons_needed(LISTS) == ["A", "B"]


def test_training_frames_keep_clear_of_every_scored_frame() -> None:
    index = _index(A, B)
    used = used_frames(index, LISTS)  # type: ignore[arg-type]
    assert used["a"] == set(range(10))  # the listed frames and every sampled test frame
    assert used["b"] == {15}  # the cross source frame
    gap = 0.5  # 5 frames at 10 fps
    plan_a = plan_person(index, "A", used, gap, window=2)  # type: ignore[arg-type]
    assert plan_a.frames == (("a", tuple(range(15, 40))),)
    assert plan_a.excluded == 15
    plan_b = plan_person(index, "B", used, gap, window=2)  # type: ignore[arg-type]
    kept = plan_b.frames[0][1]
    assert kept == (*range(0, 10), *range(21, 30))
    for frame in kept:  # the rule itself: no kept frame within gap_s of a used one
        assert all(abs(frame - u) > gap * FPS for u in used["b"])
    assert plan_b.record()["clips"] == {"b": [[0, 9], [21, 29]]}
    assert plan_a.count == 25 and plan_a.identity == "A"


def test_held_back_tails_are_not_trained_on_either() -> None:
    index = _index(A, B)
    used = used_frames(index, LISTS)  # type: ignore[arg-type]
    holdout = Holdout(tail_s=1.0, max_fraction=0.5)  # B's last 10 frames
    plan_b = plan_person(index, "B", used, 0.5, 2, holdout)  # type: ignore[arg-type]
    assert plan_b.frames[0][1] == tuple(range(0, 10))


def test_a_person_without_a_training_window_is_refused_by_name() -> None:
    short = _clip("c", "C", "test", 12, list(range(10)))
    index = _index(short)
    lists = EvalLists(same=(SameItem("c", "c", "C", 0, tuple(range(10))),), cross=(), params={})
    with pytest.raises(ConfigError, match="'C' has no 2 consecutive frames"):
        plan_person(index, "C", used_frames(index, lists), 0.5, 2)  # type: ignore[arg-type]


def test_windows_are_runs_of_consecutive_training_frames() -> None:
    frames = (("a", (1, 2, 3, 7, 8)), ("b", (4,)))
    assert window_starts(frames, 2) == [("a", 1), ("a", 2), ("a", 7)]
    assert window_starts(frames, 3) == [("a", 1)]
    assert _ranges((1, 2, 3, 7, 8)) == [[1, 3], [7, 8]]


def test_the_track_is_the_model_class_own() -> None:
    assert is_person_specific("liu-ubkp")
    assert not is_person_specific("fomm") and not is_person_specific("copy-source")
    assert person_folder("aoc-wide") == "aoc-wide"
    odd = person_folder("a/b c")
    assert odd.startswith("a_b_c-") and odd != person_folder("a_b c")


def _pose(x: float) -> list[list[float]]:
    return [[x + k, 50.0 + k, 1.0] for k in range(33)]


def _frames_table(root: Path) -> None:
    """Analysed rows of video `a` at 0, 3, 6, 9, 12 (3 fps of 10): the pose measured at 0 and
    at 9 (1 fps), repeated in between; one row without a pose."""
    rows = [
        {"analysed": True, "video_id": "a", "source_frame": f, "pose": _pose(x)}
        for f, x in ((0, 10.0), (3, 10.0), (6, 10.0), (9, 40.0), (12, 40.0))
    ]
    rows.append({"analysed": True, "video_id": "a", "source_frame": 15, "pose": None})
    rows.append({"analysed": False, "video_id": "a", "source_frame": 1, "pose": _pose(99.0)})
    pq.write_table(pa.Table.from_pylist(rows, schema=FRAMES_SCHEMA), root / "frames.parquet")


def test_poses_are_interpolated_between_measured_instants_in_crop_coordinates(
    tmp_path: Path,
) -> None:
    _frames_table(tmp_path)
    clip = _clip("a", "A", "test", 20, list(range(10)))
    track = PoseTrack(_index(clip, root=tmp_path))  # type: ignore[arg-type]
    assert track.measured_frames("a").tolist() == [0, 9]  # repeats are not measurements
    pose = track.pose("a", [0, 3, 9, 18])
    assert pose.shape == (4, 33, 3) and pose.dtype == np.float32
    # crop (x0 10, y0 20, side 100): x 10 -> 0.0, 40 -> 0.3; frame 3 is a third of the way
    assert pose[:, 0, 0] == pytest.approx([0.0, 0.1, 0.3, 0.3], abs=1e-6)
    assert pose[0, 0, 1] == pytest.approx(0.3) and pose[0, 0, 2] == pytest.approx(1.0)


def test_a_missing_face_box_takes_the_nearest_one(tmp_path: Path) -> None:
    clip = _clip("a", "A", "test", 4, [0])
    clip.meta["face_boxes"] = [None, [0.1, 0.1, 0.5, 0.5], None, [0.2, 0.2, 0.6, 0.6]]
    track = PoseTrack(_index(clip, root=tmp_path))  # type: ignore[arg-type]
    boxes = track.face_boxes("a", [0, 2, 3])
    expected = [[0.1, 0.1, 0.5, 0.5]] * 2 + [[0.2, 0.2, 0.6, 0.6]]  # a tie: the earlier one
    assert np.allclose(boxes, expected)
