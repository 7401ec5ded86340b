"""Writing generated frames: H.264 mp4 (PyAV, written under a temporary name) and PNGs."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from talkingub.io.atomic import atomic_path


def write_mp4(path: Path, frames: np.ndarray, fps: float, crf: int = 18) -> Path:
    """uint8 [T, H, W, 3] -> mp4 (libx264, yuv420p; odd sizes padded by one pixel)."""
    import av

    frames = _even(frames)
    with atomic_path(path) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "threads": "1"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def _even(frames: np.ndarray) -> np.ndarray:
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    if pad_h or pad_w:
        frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return np.ascontiguousarray(frames)


def write_pngs(folder: Path, frames: np.ndarray) -> Path:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames):
        with atomic_path(folder / f"{index:04d}.png") as tmp:
            Image.fromarray(frame).save(tmp, format="PNG")
    return folder


def read_mp4(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
