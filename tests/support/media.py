"""Derived test videos made from the peer media at test time (never committed)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np


def read_frames(path: Path, size: int | None = None, limit: int | None = None) -> list[np.ndarray]:
    import av
    import cv2

    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="rgb24")
            if size:
                image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
            frames.append(image)
            if limit and len(frames) >= limit:
                break
    return frames


def write_video(path: Path, frames: Iterable[np.ndarray], fps: int = 25) -> Path:
    import av

    frames = list(frames)
    h, w = frames[0].shape[:2]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": "18", "threads": "1"}
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def concatenated(a: Path, b: Path, out: Path, size: int = 640) -> tuple[Path, int]:
    """Clip a then clip b (both resized to size x size): returns the path and the cut frame."""
    first, second = read_frames(a, size), read_frames(b, size)
    return write_video(out, first + second), len(first)


def panned(source: Path, out: Path, window: int = 480, shift: int = 200) -> Path:
    """A synthetic camera pan: a window sliding `shift` px right across the source frames."""
    frames = read_frames(source, size=window + shift)
    n = len(frames)
    crops = [
        f[
            shift // 2 : shift // 2 + window,
            round(i * shift / (n - 1)) : round(i * shift / (n - 1)) + window,
        ]
        for i, f in enumerate(frames)
    ]
    return write_video(out, crops)
