"""Reading evaluation inputs: a folder holds videos (mp4/mov/avi/mkv/webm), sub-folders of
frames, or frames directly; items of the two folders are paired by name (without extension).
Two video files are one pair."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from talkingub.errors import ConfigError


class FrameCountError(ConfigError):
    """Generated and reference frames of one video differ in number; the one-line message names
    the video and both counts (and, where the caller offers it, `truncate=True` /
    `talkingub metrics --truncate`, which scores the common leading frames instead)."""

    def __init__(
        self,
        video: str,
        pred: int,
        target: int,
        reference: str = "ground truth",
        truncate_hint: bool = False,
    ) -> None:
        self.video, self.pred, self.target = video, pred, target
        self.reference, self.truncate_hint = reference, truncate_hint
        message = f"video {video}: the prediction has {pred} frames, the {reference} {target}"
        if truncate_hint:
            message += (
                "; pass truncate=True (talkingub metrics --truncate) to score only the first "
                f"{min(pred, target)}"
            )
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        args = (self.video, self.pred, self.target, self.reference, self.truncate_hint)
        return (type(self), args)


VIDEO_EXT = (".mp4", ".mov", ".avi", ".mkv", ".webm")
IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


@dataclasses.dataclass(frozen=True)
class MediaItem:
    name: str
    path: Path  # a video file or a folder of frames


def list_items(folder: Path) -> dict[str, MediaItem]:
    """name -> item for every video or frame folder in `folder` (itself, if it holds frames;
    a video file is one item)."""
    folder = Path(folder)
    if folder.is_file() and folder.suffix.lower() in VIDEO_EXT:
        return {folder.stem: MediaItem(folder.stem, folder)}
    if not folder.is_dir():
        raise ConfigError(f"not a folder or a video ({', '.join(VIDEO_EXT)}): {folder}")
    items = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in VIDEO_EXT:
            items[path.stem] = MediaItem(path.stem, path)
        elif path.is_dir() and _images(path):
            items[path.name] = MediaItem(path.name, path)
    if not items and _images(folder):
        items[folder.name] = MediaItem(folder.name, folder)
    return items


def pair_items(pred_dir: Path, target_dir: Path) -> list[tuple[MediaItem, MediaItem]]:
    """Items of two folders paired by name; two video files (or folders of one item each)
    are one pair, whatever their names. A video file is paired only with a video file."""
    if Path(pred_dir).is_file() != Path(target_dir).is_file():
        raise ConfigError(f"{pred_dir} and {target_dir}: give two video files or two folders")
    pred, target = list_items(pred_dir), list_items(target_dir)
    if len(pred) == 1 and len(target) == 1:
        return [(next(iter(pred.values())), next(iter(target.values())))]
    common = sorted(set(pred) & set(target))
    unmatched = sorted(set(pred) ^ set(target))
    if unmatched:
        raise ConfigError(f"items without a counterpart in the other folder: {unmatched[:5]}")
    if not common:
        raise ConfigError(f"no videos or frames found in {pred_dir} / {target_dir}")
    return [(pred[n], target[n]) for n in common]


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXT)


def iter_frames(
    item: MediaItem, size: int | None, stride: int = 1, max_frames: int | None = None
) -> Iterator[np.ndarray]:
    """uint8 RGB frames [H, W, 3], every `stride`-th, resized to size x size when given."""
    source = _video_frames(item.path) if item.path.is_file() else _image_frames(item.path)
    kept = 0
    for index, frame in enumerate(source):
        if index % stride:
            continue
        if max_frames is not None and kept >= max_frames:
            break
        kept += 1
        yield resize(frame, size)


def expected_frames(item: MediaItem, stride: int = 1, max_frames: int | None = None) -> int | None:
    """How many frames `iter_frames` will yield, from the container's declared count (None
    when it declares none); for progress only, nothing is decoded."""
    if item.path.is_file():
        import av

        try:
            with av.open(str(item.path)) as container:
                count = int(container.streams.video[0].frames or 0)
        except Exception:  # unreadable: scoring reports it; progress only goes without a total
            return None
    else:
        count = len(_images(item.path))
    if not count:
        return None
    kept = -(-count // max(1, stride))
    return kept if max_frames is None else min(kept, max_frames)


def _video_frames(path: Path) -> Iterator[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


def _image_frames(folder: Path) -> Iterator[np.ndarray]:
    from PIL import Image

    for path in _images(folder):
        with Image.open(path) as image:
            yield np.asarray(image.convert("RGB"))


def resize(frame: np.ndarray, size: int | None) -> np.ndarray:
    if size is None or frame.shape[:2] == (size, size):
        return np.ascontiguousarray(frame)
    from PIL import Image

    return np.asarray(Image.fromarray(frame).resize((size, size), Image.Resampling.BICUBIC))


def batches(
    pred: Iterator[np.ndarray],
    target: Iterator[np.ndarray],
    batch: int,
    truncate: bool = False,
    name: str = "",
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Aligned batches [B, H, W, 3] of the two streams of item `name`. When one stream ends
    before the other: `FrameCountError` naming `name` and both lengths (the rest of the longer
    stream is counted, not kept), or with `truncate=True` stop at the shorter one."""
    buffer: list[tuple[np.ndarray, np.ndarray]] = []
    pairs = 0
    while True:
        p, t = next(pred, None), next(target, None)
        if p is None or t is None:
            break
        buffer.append((p, t))
        pairs += 1
        if len(buffer) == batch:
            yield _stack(buffer)
            buffer = []
    if buffer:
        yield _stack(buffer)
    if (p is None) == (t is None) or truncate:
        return
    rest = 1 + sum(1 for _ in (target if p is None else pred))
    counts = (pairs, pairs + rest) if p is None else (pairs + rest, pairs)
    raise FrameCountError(name, *counts, truncate_hint=True)


def _stack(pairs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    return np.stack([p for p, _ in pairs]), np.stack([t for _, t in pairs])
