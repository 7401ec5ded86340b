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


def swaying_person(
    source: Path, out: Path, amplitude: int, size: int = 640, periods: float = 1.0
) -> Path:
    """The source's person (cut out with MediaPipe selfie segmentation) over a still plain
    background, shifted sideways by +-`amplitude` px (sine): a sway with a constant background
    (a moving crop window would move the background too and fail the background test)."""
    import mediapipe as mp

    frames = read_frames(source, size=size)
    plate = np.full_like(frames[0], 205)
    n = len(frames)
    out_frames = []
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        for i, f in enumerate(frames):
            alpha = seg.process(f).segmentation_mask.astype(np.float32)[..., None]
            dx = round(amplitude * np.sin(2 * np.pi * periods * i / n))
            person, weight = _shift(f.astype(np.float32), dx), _shift(alpha, dx)
            out_frames.append((weight * person + (1 - weight) * plate).astype(np.uint8))
    return write_video(out, out_frames)


def _shift(image: np.ndarray, dx: int) -> np.ndarray:
    """Shift right by dx px (left when negative), filling with zeros."""
    moved = np.zeros_like(image)
    if dx >= 0:
        moved[:, dx:] = image[:, : image.shape[1] - dx]
    else:
        moved[:, :dx] = image[:, -dx:]
    return moved


def tiled(sources: list[Path], out: Path, cell: int = 320) -> Path:
    """A 2x2 grid of four clips (each resized to `cell` px), as long as the shortest."""
    clips = [read_frames(s, size=cell) for s in sources]
    n = min(len(c) for c in clips)
    frames = [
        np.vstack([np.hstack([clips[0][i], clips[1][i]]), np.hstack([clips[2][i], clips[3][i]])])
        for i in range(n)
    ]
    return write_video(out, frames)
