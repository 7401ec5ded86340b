"""Probe a media file with PyAV: stream facts plus a real decode of the first frame.

Failures raise `ProbeError` with a reason code from the fetch/build vocabulary:
`not_found`, `not_a_file`, `empty_file`, `not_a_video`, `no_video_stream`, `corrupt`.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
from fractions import Fraction
from pathlib import Path
from typing import Any

from talkingub.errors import ReasonedError

# Demuxers that hold a single still image: such a file is not a video whatever its name.
IMAGE_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "gif", "tiff_pipe")
IMAGE_CODECS = ("png", "mjpeg", "bmp", "webp", "tiff", "gif")
ISO_BMFF_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")
# Demuxers whose file may be an animated image, and the name the `not_a_video` detail gives it.
ANIMATED_IMAGE_FORMATS = {"gif": "gif", "apng": "apng", "webp_pipe": "webp"}
# What a path that is not a regular file is, for the `not_a_file` detail.
FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_MISSING = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)


class ProbeError(ReasonedError):
    """The file cannot be used as a video; `.reason` is a reason code."""


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    container: str
    vcodec: str
    width: int  # displayed width (after rotation)
    height: int
    fps: float  # average frame rate
    duration: float  # seconds
    frames: int  # container frame count (0 when the container does not say)
    rotation: int  # degrees, from the display matrix
    has_audio: bool
    variable_frame_rate: bool

    def as_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def probe_video(path: str | Path, decode_check: bool = True) -> VideoInfo:
    path = Path(path)
    if require_regular_file(path).st_size == 0:
        raise ProbeError("empty_file", "file has zero bytes")
    import av

    try:
        with av.open(str(path)) as container:
            return _inspect(container, path, decode_check)
    except ProbeError:
        raise
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise ProbeError(_open_failure_reason(path), str(exc)) from None


def require_regular_file(path: Path) -> os.stat_result:
    """Stat `path` (following symlinks) without opening it: opening a FIFO blocks and a device
    never ends. Raises `not_found`, or `not_a_file` naming what the path is instead."""
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno not in _MISSING:
            raise
        what = "no such file" if exc.errno == errno.ENOENT else (exc.strerror or "unreachable")
        raise ProbeError("not_found", f"{what}: {path}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ProbeError("not_a_file", f"is {_file_kind(info.st_mode)}: {path}")
    return info


def _file_kind(mode: int) -> str:
    for test, kind in FILE_KINDS:
        if test(mode):
            return kind
    return "not a regular file"


def _open_failure_reason(path: Path) -> str:
    """A file that starts like an MP4/MOV but cannot be read is damaged, not foreign."""
    with open(path, "rb") as handle:
        head = handle.read(12)
    return "corrupt" if head[4:8] in ISO_BMFF_BOXES else "not_a_video"


def _inspect(container: Any, path: Path, decode_check: bool) -> VideoInfo:
    _reject_images(container, path)
    if not container.streams.video:
        raise ProbeError("no_video_stream", "the file has no video stream")
    stream = container.streams.video[0]
    codec = stream.codec_context.name
    if codec in IMAGE_CODECS and (stream.frames or 0) <= 1:
        raise ProbeError("not_a_video", f"single-image stream ({codec})")
    rotation = _first_frame_rotation(container, stream) if decode_check else 0
    width, height = stream.codec_context.width, stream.codec_context.height
    if rotation % 180:
        width, height = height, width
    return VideoInfo(
        container=container.format.name,
        vcodec=codec,
        width=int(width),
        height=int(height),
        fps=_fps(stream),
        duration=_duration(container, stream),
        frames=int(stream.frames or 0),
        rotation=rotation,
        has_audio=bool(container.streams.audio),
        variable_frame_rate=_is_vfr(stream),
    )


def _reject_images(container: Any, path: Path) -> None:
    name = container.format.name
    if name in ANIMATED_IMAGE_FORMATS and _is_animated(container, path):
        raise ProbeError("not_a_video", f"animated image ({ANIMATED_IMAGE_FORMATS[name]})")
    if name in IMAGE_FORMATS or name in ANIMATED_IMAGE_FORMATS:
        raise ProbeError("not_a_video", f"file is a still image ({name})")


def _is_animated(container: Any, path: Path) -> bool:
    if container.format.name == "webp_pipe":
        return _webp_is_animated(path)
    return _frame_count(container, limit=2) > 1


def _frame_count(container: Any, limit: int) -> int:
    """The container's frame count, else video packets demuxed up to `limit` (cheap: no decode)."""
    if not container.streams.video:
        return 0
    stream = container.streams.video[0]
    if stream.frames:
        return int(stream.frames)
    count = 0
    for packet in container.demux(stream):
        count += packet.size > 0
        if count >= limit:
            break
    return count


def _webp_is_animated(path: Path) -> bool:
    """FFmpeg demuxes a WebP as one packet; the extended header (VP8X) has an animation flag."""
    with open(path, "rb") as handle:
        head = handle.read(21)
    return len(head) == 21 and head[12:16] == b"VP8X" and bool(head[20] & 0x02)


def _first_frame_rotation(container: Any, stream: Any) -> int:
    import av

    try:
        for frame in container.decode(stream):
            return round(frame.rotation or 0) % 360
    except av.FFmpegError as exc:
        raise ProbeError("corrupt", f"cannot decode the first frame: {exc}") from None
    raise ProbeError("corrupt", "the video stream has no decodable frame")


def _fps(stream: Any) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else 0.0


def _duration(container: Any, stream: Any) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * Fraction(stream.time_base))
    if container.duration:
        return container.duration / 1_000_000
    return 0.0


def _is_vfr(stream: Any) -> bool:
    """Container's nominal (r_frame_rate) and average rates disagree by more than 1%."""
    nominal, average = stream.base_rate, stream.average_rate
    if not nominal or not average:
        return False
    return abs(float(nominal) - float(average)) > 0.01 * float(nominal)
