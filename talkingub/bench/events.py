"""TensorBoard event files of a run (training scalars; an evaluation's scalars and sample
images, `eval_events.py`): a writer and a small reader.

Writing uses tensorboardX's protobufs and record writer (a dependency of the `bench` extra:
numpy + protobuf, no TensorFlow or TensorBoard server), synchronously rather than through its
background-thread `SummaryWriter`, so what the training loop flushed before a checkpoint is on
disk when the process is killed. Files land in `<run>/events/` and open in any TensorBoard
(`tensorboard --logdir runs/bench`).

The reader parses the same files back (TFRecord framing with masked CRC-32C checks, then the
`Event` protobuf) so tests and scripts can inspect a run without TensorBoard. It applies
TensorBoard's purge rule: a `SessionLog.START` at step T (written when a resumed run opens its
writer) hides the earlier events at steps >= T.
"""

from __future__ import annotations

import io
import struct
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from talkingub.errors import DependencyError, TalkingubError

EVENTS_GLOB = "events.out.tfevents.*"
_HEADER = struct.Struct("<Q")
_CRC = struct.Struct("<I")


class EventFileError(TalkingubError):
    """An event file is truncated or fails its CRC check."""


class EventLog:
    """Scalars and images to one TensorBoard event file, written synchronously: after
    `flush()` everything logged so far is on disk (a run killed later loses none of it)."""

    def __init__(self, folder: Path, purge_step: int | None = None, kind: str = "") -> None:
        tbx = _tensorboardx()
        self._proto = tbx.event_pb2
        self._summary = tbx.summary_pb2
        # file names carry whole seconds and the host: a run resumed within the same second
        # would reopen (and truncate) the previous file without a suffix of its own
        suffix = f".{kind}.{uuid.uuid4().hex[:8]}" if kind else f".{uuid.uuid4().hex[:8]}"
        self._writer = tbx.EventsWriter(str(folder / "events"), suffix)
        if purge_step is not None:
            start = self._proto.SessionLog(status=self._proto.SessionLog.START)
            self._write(self._proto.Event(step=purge_step, session_log=start))
            self.flush()

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        item = self._summary.Summary.Value(tag=tag, simple_value=float(value))
        summary = self._summary.Summary(value=[item])
        self._write(self._proto.Event(step=step, summary=summary))

    def add_image(self, tag: str, image: np.ndarray, step: int) -> None:
        """A uint8 RGB image `[H, W, 3]`, stored PNG-encoded (TensorBoard's Images tab)."""
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buffer, format="PNG")
        height, width = image.shape[:2]
        encoded = self._summary.Summary.Image(
            height=height, width=width, colorspace=3, encoded_image_string=buffer.getvalue()
        )
        summary = self._summary.Summary(value=[self._summary.Summary.Value(tag=tag, image=encoded)])
        self._write(self._proto.Event(step=step, summary=summary))

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()

    def _write(self, event: Any) -> None:
        event.wall_time = time.time()
        self._writer.write_event(event)


def open_writer(folder: Path, purge_step: int | None = None) -> EventLog:
    """An event log in `folder`. A fresh run (`purge_step` None) starts from an empty folder;
    a resumed one hides the old events from `purge_step` on."""
    folder.mkdir(parents=True, exist_ok=True)
    if purge_step is None:
        for old in folder.glob(EVENTS_GLOB):
            old.unlink()
    return EventLog(folder, purge_step)


def append_writer(folder: Path, kind: str) -> EventLog:
    """An event log of `kind` (e.g. `eval`) beside the training files of `folder`: it hides no
    training step; an earlier file of the same kind (a previous evaluation) is replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{EVENTS_GLOB}.{kind}.*"):
        old.unlink()
    return EventLog(folder, kind=kind)


def _tensorboardx() -> Any:
    """tensorboardX's event protobufs and file writer (numpy + protobuf, no TensorFlow)."""
    try:
        from tensorboardX.event_file_writer import EventsWriter
        from tensorboardX.proto import event_pb2, summary_pb2
    except ImportError:
        raise DependencyError(
            "TensorBoard logging needs tensorboardX: pip install 'talkingub[bench]' "
            "(or pip install tensorboardX)"
        ) from None
    return SimpleNamespace(EventsWriter=EventsWriter, event_pb2=event_pb2, summary_pb2=summary_pb2)


def read_scalars(folder: Path) -> dict[str, dict[int, float]]:
    """tag -> {step: value} over every event file of `folder`, oldest file first."""
    scalars: dict[str, dict[int, float]] = {}
    for path in _files_by_start(folder):
        for event in read_events(path):
            if event.HasField("session_log") and event.session_log.status == 1:  # START
                _purge(scalars, event.step)
            for value in event.summary.value:
                if not value.HasField("image"):
                    scalars.setdefault(value.tag, {})[int(event.step)] = _scalar(value)
    return scalars


def read_events(path: Path) -> Iterator[Any]:
    """Every `Event` record of one file, CRCs checked."""
    from tensorboardX.proto.event_pb2 import Event

    for record in _records(path.read_bytes(), path):
        event = Event()
        event.ParseFromString(record)
        yield event


def _records(data: bytes, path: Path) -> Iterator[bytes]:
    from tensorboardX.record_writer import masked_crc32c

    pos = 0
    while pos < len(data):
        end = pos + _HEADER.size + _CRC.size
        if end > len(data):
            raise EventFileError(f"{path}: truncated record header at byte {pos}")
        header = data[pos : pos + _HEADER.size]
        (length,) = _HEADER.unpack(header)
        (header_crc,) = _CRC.unpack(data[pos + _HEADER.size : end])
        body_end = end + length + _CRC.size
        if header_crc != masked_crc32c(header) or body_end > len(data):
            raise EventFileError(f"{path}: bad record header at byte {pos}")
        body = data[end : end + length]
        (body_crc,) = _CRC.unpack(data[end + length : body_end])
        if body_crc != masked_crc32c(body):
            raise EventFileError(f"{path}: bad record CRC at byte {pos}")
        yield body
        pos = body_end


def _files_by_start(folder: Path) -> list[Path]:
    """Event files ordered by the wall time of their first record (names carry seconds only)."""

    def start(path: Path) -> float:
        first = next(read_events(path), None)
        return float(first.wall_time) if first is not None else 0.0

    return sorted(folder.glob(EVENTS_GLOB), key=start)


def _purge(scalars: dict[str, dict[int, float]], step: int) -> None:
    for series in scalars.values():
        for old in [s for s in series if s >= step]:
            del series[old]


def _scalar(value: Any) -> float:
    if value.HasField("simple_value"):
        return float(value.simple_value)
    return float(value.tensor.float_val[0])
