"""Crop + resize + encode every kept clip of a video in one decoding pass (PyAV + OpenCV).

Frames are counted exactly as in the analysis pass, so clip frame ranges match. Each clip is
written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np

from talkingub.build.config import CropConfig
from talkingub.build.crop import CropBox
from talkingub.build.decode import _rotate
from talkingub.io.atomic import temp_name
from talkingub.io.faults import crash_point


class _ClipWriter:
    def __init__(self, path: Path, fps: float, config: CropConfig) -> None:
        import av

        self.path = path
        self.tmp = temp_name(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(self.tmp), mode="w", format="mp4")
        rate = _rate(fps)
        self.stream = self.container.add_stream("libx264", rate=rate)
        self.stream.width = self.stream.height = config.output_size
        self.stream.pix_fmt = "yuv420p"
        threads = str(config.encode_threads)
        self.stream.options = {"crf": str(config.crf), "preset": "medium", "threads": threads}
        self.stream.codec_context.thread_count = config.encode_threads

    def write(self, image: np.ndarray) -> None:
        import av

        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        self.container.mux(self.stream.encode(frame))

    def finish(self) -> None:
        self.container.mux(self.stream.encode())
        self.container.close()
        self.tmp.replace(self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()
        self.tmp.unlink(missing_ok=True)


def _rate(fps: float) -> Any:
    from fractions import Fraction

    return Fraction(fps).limit_denominator(1001)


def crop_resize(image: np.ndarray, box: CropBox, size: int) -> np.ndarray:
    import cv2

    x0, y0 = round(box.x0), round(box.y0)
    side = round(box.side)
    crop = image[y0 : y0 + side, x0 : x0 + side]
    interpolation = cv2.INTER_AREA if side >= size else cv2.INTER_CUBIC
    return cv2.resize(crop, (size, size), interpolation=interpolation)


def encode_clips(
    source: Path,
    clips: list[tuple[str, int, int, CropBox]],
    fps: float,
    out_dir: Path,
    config: CropConfig,
) -> dict[str, Path]:
    """clips: (clip_id, start, end, box). Returns clip_id -> mp4 path."""
    import av

    pending = sorted(clips, key=lambda c: c[1])
    if not pending:
        return {}
    last = max(c[2] for c in pending)
    writers: dict[str, _ClipWriter] = {}
    try:
        with av.open(str(source)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for index, frame in enumerate(container.decode(stream)):
                if index >= last:
                    break
                _route(frame, index, pending, writers, fps, out_dir, config)
        for writer in writers.values():
            writer.finish()
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    return {clip_id: w.path for clip_id, w in writers.items()}


def _route(
    frame: Any,
    index: int,
    clips: list[tuple[str, int, int, CropBox]],
    writers: dict[str, _ClipWriter],
    fps: float,
    out_dir: Path,
    config: CropConfig,
) -> None:
    active = [c for c in clips if c[1] <= index < c[2]]
    if not active:
        return
    image = _rotate(frame.to_ndarray(format="rgb24"), round(frame.rotation or 0) % 360)
    for clip_id, _, _, box in active:
        if clip_id not in writers:
            writers[clip_id] = _ClipWriter(out_dir / f"{clip_id}.mp4", fps, config)
        writers[clip_id].write(crop_resize(image, box, config.output_size))
        if index - clips[0][1] == 10:
            crash_point("clip.encoding")
