"""`talkingub.data.clips.face_boxes`: one row per wanted clip frame, in the order asked,
NaN for a frame whose box the sample's JSON records as null."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from talkingub.bench.data import ClipRecord
from talkingub.data.clips import face_boxes


def record(boxes: list[list[float] | None]) -> ClipRecord:
    meta = {"face_boxes": boxes, "sampled_frames": [0, 2], "n_frames": len(boxes), "fps": 25}
    return ClipRecord("c", "v", "p", "train", Path("train-00000.tar"), (0, 0), meta)


def test_rows_follow_the_wanted_frames() -> None:
    clip = record([[0.1, 0.2, 0.3, 0.4], None, [0.5, 0.6, 0.7, 0.8]])
    out = face_boxes(clip, [2, 0])
    assert out.dtype == np.float32 and out.shape == (2, 4)
    np.testing.assert_allclose(out, [[0.5, 0.6, 0.7, 0.8], [0.1, 0.2, 0.3, 0.4]], rtol=1e-6)


def test_a_null_box_is_a_nan_row() -> None:
    out = face_boxes(record([[0.1, 0.2, 0.3, 0.4], None]), [0, 1])
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()


def test_no_frames_is_an_empty_array() -> None:
    assert face_boxes(record([[0.1, 0.2, 0.3, 0.4]]), []).shape == (0, 4)
