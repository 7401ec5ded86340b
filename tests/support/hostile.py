"""Hostile inputs for the build's reliability tests, generated at test time."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from tests.support.media import read_frames, write_video


def zero_byte(folder: Path) -> Path:
    path = folder / "zero.mp4"
    path.write_bytes(b"")
    return path


def truncated(source: Path, folder: Path) -> Path:
    path = folder / "truncated.mp4"
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def image_as_mp4(image: Path, folder: Path) -> Path:
    path = folder / "image.mp4"
    path.write_bytes(image.read_bytes())
    return path


def audio_only(folder: Path, seconds: float = 2.0) -> Path:
    import av

    path = folder / "audio_only.mp4"
    rate = 44100
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=rate)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(int(rate * seconds)) / rate)).astype(
            np.float32
        )
        for start in range(0, len(tone), 1024):
            frame = av.AudioFrame.from_ndarray(
                tone[None, start : start + 1024], format="flt", layout="mono"
            )
            frame.sample_rate = rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def banner(folder: Path, size: tuple[int, int] = (10000, 10), frames: int = 5) -> Path:
    w, h = size
    images = [np.full((h, w, 3), 60 + 20 * i, np.uint8) for i in range(frames)]
    return write_video(folder / "banner.mp4", images)


def three_frames(source: Path, folder: Path) -> Path:
    return write_video(folder / "three.mp4", read_frames(source, limit=3))


def two_hours(folder: Path) -> Path:
    """120 frames at 1/60 fps: a 2-hour video that takes a second to make."""
    import av

    path = folder / "two_hours.mp4"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(1, 60))
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(120):
            image = np.full((64, 64, 3), i % 255, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def rotated(source: Path, folder: Path, degrees: int = 90, pad: int = 70) -> Path:
    """The source padded to landscape (`pad` px of grey left and right), turned on its side in
    the pixels, with a display matrix that turns it back: coded size is the displayed size
    swapped, so a pipeline that ignores the matrix sees a portrait video lying on its side."""
    import av

    frames = [
        np.ascontiguousarray(np.rot90(_pad_sides(f, pad), k=-degrees // 90))
        for f in read_frames(source)
    ]
    path = folder / "rotated.mp4"
    h, w = frames[0].shape[:2]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.set_display_rotation(degrees)
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def _pad_sides(image: np.ndarray, pad: int) -> np.ndarray:
    return np.pad(image, ((0, 0), (pad, pad), (0, 0)), constant_values=128)


def coded_size(path: Path) -> tuple[int, int]:
    """Width and height of the stored pixels (before any display rotation)."""
    import av

    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        return context.width, context.height


def frame_times(path: Path) -> list[float]:
    """Presentation time of every frame PyAV decodes, in seconds."""
    import av

    with av.open(str(path)) as container:
        return [float(frame.time) for frame in container.decode(video=0)]


def variable_frame_rate(source: Path, folder: Path) -> Path:
    """Frames at irregular times (1/30 s and 1/15 s steps alternating in blocks)."""
    import av

    frames = read_frames(source)
    path = folder / "vfr.mp4"
    h, w = frames[0].shape[:2]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 30)
        pts = 0
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 30)
            pts += 1 if (i // 10) % 2 == 0 else 2
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


# Faulty workers (talkingub.io.faults): rows whose worker SIGKILLs itself or hangs.
FAULTS = "crasher:kill,hanger:hang"


def faulty_manifest(manifest: Path, media: Path, folder: Path) -> Path:
    """`manifest` plus a `crasher` row first and a `hanger` row last (both on `media`), so
    the good rows run on the worker that replaces the crashed one."""
    header, *good = manifest.read_text().splitlines()
    crasher, hanger = (f"{vid},{media},{vid}" for vid in ("crasher", "hanger"))
    path = folder / "faulty.csv"
    path.write_text("\n".join([header, crasher, *good, hanger]) + "\n")
    return path


def seed(reference: Path, out: Path, keep: tuple[str, ...], drop_clips: bool = False) -> None:
    """Copy the named per-video state of a finished build (never its dataset outputs), with
    the ownership records (mark, ledger) that make `out` the build's folder."""
    import shutil

    from talkingub.io.outdir import LEDGER_NAME, MARK_NAME

    out.mkdir(parents=True)
    owned = [n for n in (MARK_NAME, LEDGER_NAME) if (reference / n).is_file()]
    for name in (*owned, *keep):
        source = reference / name
        if source.is_dir():
            shutil.copytree(source, out / name)
        else:
            shutil.copy2(source, out / name)
    if drop_clips:
        for clips in (out / "work").glob("*/clips"):
            shutil.rmtree(clips)


def assert_faults_isolated(out: Path, reference: Path) -> None:
    """The crasher and hanger rows failed with their reasons; the good rows match `reference`."""
    import pandas as pd

    videos = pd.read_parquet(out / "videos.parquet").set_index("video_id")
    assert tuple(videos.loc["crasher", ["status", "reason"]]) == ("failed", "worker_crashed")
    assert tuple(videos.loc["hanger", ["status", "reason"]]) == ("failed", "timeout")
    clean = pd.read_parquet(reference / "videos.parquet").set_index("video_id")
    columns = ["status", "frames", "n_clips_kept", "n_frames_kept"]
    pd.testing.assert_frame_equal(
        videos.loc[clean.index, columns], clean[columns], check_dtype=False
    )
