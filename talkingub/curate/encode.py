"""Crop + resize + encode every kept clip of a video in one decoding pass, in C.

Each clip gets an FFmpeg filter graph (display rotation -> crop -> area scale to 256 ->
yuv420p) fed straight from the decoder, and a libx264 encoder; no frame is converted to a
numpy array. Frames are counted exactly as in the analysis pass, so clip ranges match. Each
clip is written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from talkingub.curate.config import CropConfig
from talkingub.curate.crop import CropBox
from talkingub.io.atomic import temp_name
from talkingub.io.faults import crash_point

# ffmpeg filters that undo a display rotation (PyAV reports counter-clockwise degrees).
_UNROTATE = {
    0: [],
    90: [("transpose", "2")],
    180: [("hflip", ""), ("vflip", "")],
    270: [("transpose", "1")],
}

ClipSpec = tuple[str, int, int, CropBox]  # clip_id, first frame, end frame (exclusive), box


class _ClipWriter:
    def __init__(
        self, path: Path, fps: float, box: CropBox, stream: Any, rotation: int, config: CropConfig
    ) -> None:
        import av

        self.path = path
        self.tmp = temp_name(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.rate = Fraction(fps).limit_denominator(1001)
        self.count = 0
        self.graph = _crop_graph(stream, rotation, box, config.output_size)
        self.container = av.open(str(self.tmp), mode="w", format="mp4")
        self.stream = self.container.add_stream("libx264", rate=self.rate)
        self.stream.width = self.stream.height = config.output_size
        self.stream.pix_fmt = "yuv420p"
        self.stream.options = {
            "crf": str(config.crf),
            "preset": config.preset,
            "threads": str(config.encode_threads),
        }
        self.stream.codec_context.thread_count = config.encode_threads

    def write(self, frame: Any) -> None:
        self.graph.push(frame)
        out = self.graph.pull()
        out.pts, out.time_base = self.count, 1 / self.rate
        self.count += 1
        self.container.mux(self.stream.encode(out))

    def finish(self) -> None:
        self.container.mux(self.stream.encode())
        self.container.close()
        self.tmp.replace(self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()
        self.tmp.unlink(missing_ok=True)


def _crop_graph(stream: Any, rotation: int, box: CropBox, size: int) -> Any:
    import av

    graph = av.filter.Graph()
    side = round(box.side)
    chain = [graph.add_buffer(template=stream)]
    steps = [
        *_UNROTATE[rotation],
        ("crop", f"{side}:{side}:{round(box.x0)}:{round(box.y0)}"),
        ("scale", f"{size}:{size}:flags=area"),
        ("format", "yuv420p"),
    ]
    chain += [graph.add(name, args) for name, args in steps]
    chain.append(graph.add("buffersink"))
    for a, b in itertools.pairwise(chain):
        a.link_to(b)
    graph.configure()
    return graph


def encode_clips(
    source: Path,
    clips: list[ClipSpec],
    fps: float,
    out_dir: Path,
    config: CropConfig,
    progress: Callable[[int, int | None], None] | None = None,
) -> dict[str, Path]:
    """Returns clip_id -> mp4 path. `progress(frames decoded, frames to decode)`."""
    import av

    if not clips:
        return {}
    last = max(c[2] for c in clips)
    writers: dict[str, _ClipWriter] = {}
    try:
        with av.open(str(source)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for index, frame in enumerate(container.decode(stream)):
                if index >= last:
                    break
                _route(frame, index, clips, writers, (fps, stream, out_dir, config))
                if progress is not None:
                    progress(index + 1, last)
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
    clips: list[ClipSpec],
    writers: dict[str, _ClipWriter],
    context: tuple[float, Any, Path, CropConfig],
) -> None:
    fps, stream, out_dir, config = context
    for clip_id, start, end, box in clips:
        if not start <= index < end:
            continue
        if clip_id not in writers:
            rotation = round(frame.rotation or 0) % 360
            writers[clip_id] = _ClipWriter(
                out_dir / f"{clip_id}.mp4", fps, box, stream, rotation, config
            )
        writers[clip_id].write(frame)
        if index - start == (end - start) // 2:  # half a clip muxed into its temp file
            crash_point("clip.encoding")
