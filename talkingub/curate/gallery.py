"""The report's gallery of kept crops: one small JPEG per shown clip, its first sampled frame
(what the shard holds, 256x256, scaled down) with the face box of the shard's JSON drawn.

Only that one frame of each shown clip is decoded, from the encoded clip the build already
made (`work/<video>/clips/`). Big builds show at most `GALLERY_MAX` clips, taken round-robin
over the kept videos so each video appears before any shows a second clip.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from talkingub.io.atomic import atomic_path

Row = dict[str, Any]
GALLERY_MAX = 60
THUMB = 160  # pixels, square
FACE_COLOUR = (255, 210, 0)
log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class GalleryItem:
    clip: Row
    path: Path  # report/gallery/<clip_id>.jpg
    frame: int  # clip frame shown (the first sampled one)
    face_box: list[float] | None  # x0, y0, x1, y1 in the crop (0-1)


def gallery_folder(out: Path) -> Path:
    return out / "report" / "gallery"


def shown_clips(clips: Sequence[Row], limit: int = GALLERY_MAX) -> list[Row]:
    """The kept clips the gallery shows: round-robin over videos (sorted), clips in order."""
    by_video: dict[str, list[Row]] = {}
    for clip in sorted(clips, key=lambda c: (str(c["video_id"]), int(c["start"]))):
        if clip.get("status") == "kept" and (clip.get("n_sampled") or 0) > 0 and clip.get("file"):
            by_video.setdefault(str(clip["video_id"]), []).append(clip)
    queues = [by_video[v] for v in sorted(by_video)]
    chosen: list[Row] = []
    depth = 0
    while len(chosen) < limit and any(depth < len(q) for q in queues):
        chosen += [q[depth] for q in queues if depth < len(q)][: limit - len(chosen)]
        depth += 1
    return chosen


def kept_count(clips: Sequence[Row]) -> int:
    return sum(1 for c in clips if c.get("status") == "kept" and (c.get("n_sampled") or 0) > 0)


def gallery_paths(out: Path, clips: Sequence[Row]) -> list[Path]:
    """The thumbnails `write_gallery` writes for `clips`."""
    return [gallery_folder(out) / f"{c['clip_id']}.jpg" for c in shown_clips(clips)]


def gallery_items(out: Path, clips: Sequence[Row], frames: Sequence[Row]) -> list[GalleryItem]:
    chosen = shown_clips(clips)
    wanted = {str(c["clip_id"]) for c in chosen}
    first: dict[str, Row] = {}
    for row in frames:
        clip_id = row.get("clip_id")
        if row.get("sampled") and clip_id in wanted and row.get("clip_frame") is not None:
            best = first.get(clip_id)
            if best is None or row["clip_frame"] < best["clip_frame"]:
                first[clip_id] = row
    items = []
    for clip, path in zip(chosen, gallery_paths(out, clips)):
        row = first.get(str(clip["clip_id"]), {})
        box = row.get("face_box_crop")
        items.append(
            GalleryItem(
                clip, path, int(row.get("clip_frame") or 0), None if box is None else list(box)
            )
        )
    return items


def write_gallery(out: Path, clips: Sequence[Row], frames: Sequence[Row]) -> list[GalleryItem]:
    """Write the thumbnails; returns the items written (a clip that cannot be decoded is left
    out, and an older thumbnail of it removed: the page never shows a stale crop)."""
    written = []
    for item in gallery_items(out, clips, frames):
        source = out / "work" / str(item.clip["video_id"]) / "clips" / str(item.clip["file"])
        try:
            image = _frame(source, item.frame)
        except (OSError, ValueError, RuntimeError) as exc:  # av errors are OSError/ValueError
            log.warning("gallery: clip %s not shown (%s)", item.clip["clip_id"], exc)
            item.path.unlink(missing_ok=True)
            continue
        _save(_with_face_box(image, item.face_box), item.path)
        written.append(item)
    return written


def _frame(source: Path, index: int) -> Any:
    import av

    with av.open(str(source)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return frame.to_image()
    raise ValueError(f"{source.name} has no frame {index}")


def _with_face_box(image: Any, box: list[float] | None) -> Any:
    from PIL import Image, ImageDraw

    small = image.convert("RGB").resize((THUMB, THUMB), Image.Resampling.LANCZOS)
    if box is not None and len(box) == 4:
        x0, y0, x1, y1 = (round(v * THUMB) for v in box)
        ImageDraw.Draw(small).rectangle([x0, y0, x1 - 1, y1 - 1], outline=FACE_COLOUR, width=2)
    return small


def _save(image: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        image.save(tmp, format="JPEG", quality=85)
