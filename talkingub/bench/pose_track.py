"""The pose and face box of every clip frame, from what the build recorded (no detector runs).

`frames.parquet` holds, for every analysed frame (3 fps), BlazePose's 33 points in source
pixels (`pose`: x, y, visibility). The recipe runs the pose model on every `pose_every`-th
analysed frame (default 3: 1 fps) and repeats its result on the frames between, so the
instants the pose was *measured* are the first rows of each run of equal poses; a clip
frame's pose is the linear interpolation, in source frame numbers, between the measured
instants around it (the first or last measured pose beyond them). Points are then mapped to
the clip's crop (`crop_box`: x0, y0, side in source pixels) as 0-1 of the 256 px frame.
The face box of every clip frame is the shard's face track (`face_boxes`, already in the
crop's 0-1 coordinates; a frame without one takes the nearest frame's).

This is the input of the person-specific track's model (`talkingub.zoo.liu_ubkp`); its
temporal detail is the build's: at the default 1 fps of measured pose, motion between
measurements is a straight line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from talkingub.bench.data import BuildIndex
from talkingub.errors import ConfigError
from talkingub.manifest.schema import ShardSample, check_table, output_version

NUM_POINTS = 33


class PoseTrack:
    """Per clip frame: BlazePose [T, 33, 3] (crop 0-1, visibility) and face box [T, 4]."""

    def __init__(self, index: BuildIndex) -> None:
        self.index = index
        self._measured: dict[str, tuple[np.ndarray, np.ndarray]] | None = None

    def _load(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """video id -> (measured source frames [M], poses [M, 33, 3] in source pixels)."""
        if self._measured is not None:
            return self._measured
        import pandas as pd

        path = Path(self.index.root) / "frames.parquet"
        if not path.is_file():
            raise ConfigError(f"{path} not found: the person-specific track reads its poses")
        check_table(path, output_version("frames"))
        table = pd.read_parquet(path, columns=["video_id", "source_frame", "pose", "analysed"])
        table = table[table["analysed"].fillna(False).astype(bool) & table["pose"].notna()]
        measured: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for video, rows in table.sort_values("source_frame").groupby("video_id", sort=True):
            frames = rows["source_frame"].to_numpy(dtype=np.int64)
            poses = np.stack([_pose_array(p) for p in rows["pose"]])
            frames, index = np.unique(frames, return_index=True)
            poses = poses[index]
            keep = np.ones(len(frames), dtype=bool)
            keep[1:] = np.any(poses[1:] != poses[:-1], axis=(1, 2))  # first of each repeat
            measured[str(video)] = (frames[keep], poses[keep])
        self._measured = measured
        return measured

    def measured_frames(self, clip_id: str) -> np.ndarray:
        """Clip frame numbers (may lie outside the clip) at which the pose was measured."""
        record = self.index.clips[clip_id]
        frames, _ = self._video(record.video_id, clip_id)
        return frames - int(record.meta.get("source_start") or 0)

    def _video(self, video_id: str, clip_id: str) -> tuple[np.ndarray, np.ndarray]:
        found = self._load().get(video_id)
        if found is None or not len(found[0]):
            raise ConfigError(f"{clip_id}: the build recorded no pose for video {video_id}")
        return found

    def pose(self, clip_id: str, frames: list[int]) -> np.ndarray:
        """[T, 33, 3] float32: x, y in 0-1 of the clip's crop, visibility."""
        record = self.index.clips[clip_id]
        measured, poses = self._video(record.video_id, clip_id)
        wanted = np.asarray(frames, dtype=np.float64) + int(record.meta.get("source_start") or 0)
        flat = poses.reshape(len(poses), -1)
        out = np.stack([np.interp(wanted, measured, flat[:, k]) for k in range(flat.shape[1])], 1)
        out = out.reshape(len(frames), NUM_POINTS, 3)
        x0, y0, side = (float(v) for v in record.meta["crop_box"])
        out[..., 0] = (out[..., 0] - x0) / side
        out[..., 1] = (out[..., 1] - y0) / side
        return out.astype(np.float32)

    def face_boxes(self, clip_id: str, frames: list[int]) -> np.ndarray:
        """[T, 4] float32 face boxes (x0, y0, x1, y1 in 0-1 of the crop)."""
        record = self.index.clips[clip_id]
        boxes = ShardSample(clip_id, record.meta).face_boxes
        known = [i for i, b in enumerate(boxes) if b is not None]
        if not known:
            raise ConfigError(f"{clip_id}: the build recorded no face box")
        out = []
        for frame in frames:
            box = boxes[frame] if 0 <= frame < len(boxes) else None
            if box is None:
                box = boxes[min(known, key=lambda i: (abs(i - frame), i))]
            out.append(box)
        return np.asarray(out, dtype=np.float32).reshape(-1, 4)


def _pose_array(value: object) -> np.ndarray:
    array = np.stack([np.asarray(p, dtype=np.float64) for p in value])  # type: ignore[attr-defined]
    if array.shape != (NUM_POINTS, 3):
        raise ConfigError(f"frames.parquet: a pose of shape {array.shape}, expected (33, 3)")
    return array
