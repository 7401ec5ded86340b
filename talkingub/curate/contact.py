"""Contact sheets: one PNG per video, a tile per sequence: a frame with its crop box, the crop
itself (what the 256x256 clip shows) and the decision with its reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from talkingub.io.atomic import atomic_path

TILE = 240
COLOURS = {"kept": (40, 170, 60), "rejected": (210, 50, 40)}


def write_contact_sheets(out: Path, clips: list[dict[str, Any]]) -> list[Path]:
    by_video: dict[str, list[dict[str, Any]]] = {}
    for clip in clips:
        by_video.setdefault(clip["video_id"], []).append(clip)
    return [_sheet(out, vid, rows) for vid, rows in sorted(by_video.items())]


def sheet_paths(out: Path, clips: list[dict[str, Any]]) -> list[Path]:
    """The contact sheets `write_contact_sheets` writes for `clips`."""
    return [sheet_path(out, vid) for vid in sorted({c["video_id"] for c in clips})]


def sheet_path(out: Path, video_id: str) -> Path:
    return out / "contact_sheets" / f"{video_id}.png"


def _sheet(out: Path, video_id: str, clips: list[dict[str, Any]]) -> Path:
    from PIL import Image

    thumbs = _thumbs(out / "work" / video_id / "thumbs")
    tiles = [_tile(clip, thumbs) for clip in clips]
    cols = min(3, len(tiles))
    rows = (len(tiles) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * 2 * TILE, rows * (TILE + 36)), "white")
    for i, tile in enumerate(tiles):
        sheet.paste(tile, ((i % cols) * 2 * TILE, (i // cols) * (TILE + 36)))
    path = sheet_path(out, video_id)
    with atomic_path(path) as tmp:
        sheet.save(tmp, format="PNG")
    return path


def _thumbs(folder: Path) -> dict[int, Path]:
    return {int(p.stem): p for p in folder.glob("*.jpg")} if folder.is_dir() else {}


def _tile(clip: dict[str, Any], thumbs: dict[int, Path]) -> Any:
    from PIL import Image, ImageDraw

    tile = Image.new("RGB", (2 * TILE, TILE + 36), "white")
    middle = (clip["start"] + clip["end"]) / 2
    if thumbs:
        nearest = min(thumbs, key=lambda i: (not clip["start"] <= i < clip["end"], abs(i - middle)))
        frame = Image.open(thumbs[nearest]).convert("RGB")
        crop = _crop_panel(frame, clip)
        scale = TILE / max(frame.size)
        image = frame.resize((round(frame.width * scale), round(frame.height * scale)))
        _draw_crop(ImageDraw.Draw(image), clip, image.size)
        tile.paste(image, ((TILE - image.width) // 2, (TILE - image.height) // 2))
        if crop is not None:
            tile.paste(crop, (TILE, 0))
    draw = ImageDraw.Draw(tile)
    colour = COLOURS.get(clip["status"], (0, 0, 0))
    draw.rectangle([0, 0, 2 * TILE - 1, TILE + 35], outline=colour, width=3)
    label = clip["status"] if clip["status"] == "kept" else f"{clip['reason']}"
    draw.text((6, TILE + 2), f"{label}  f{clip['start']}-{clip['end']}", fill=colour)
    draw.text((6, TILE + 18), _measures(clip), fill=(0, 0, 0))
    return tile


def _measures(clip: dict[str, Any]) -> str:
    """Median face ratio and torso extent (face heights below the shoulders) of the segment."""
    ratio = clip.get("score_face_ratio_median")
    torso = clip.get("score_torso_extent_median")
    text = f"face ratio {ratio:.2f}" if ratio is not None else "face ratio n/a"
    return text + (f"   torso {torso:.2f}" if torso is not None else "")


def _draw_crop(draw: Any, clip: dict[str, Any], size: tuple[int, int]) -> None:
    norm = clip.get("crop_norm")
    if norm is None or len(norm) == 0:
        return
    w, h = size
    x0, y0 = norm[0] * w, norm[1] * h
    draw.rectangle(
        [x0, y0, x0 + norm[2] * w, y0 + norm[3] * h], outline=COLOURS[clip["status"]], width=2
    )


def _crop_panel(frame: Any, clip: dict[str, Any]) -> Any:
    """The clip's square crop cut from the thumbnail, at TILE px (None without a crop box)."""
    norm = clip.get("crop_norm")
    if norm is None or len(norm) == 0:
        return None
    w, h = frame.size
    box = (norm[0] * w, norm[1] * h, (norm[0] + norm[2]) * w, (norm[1] + norm[3]) * h)
    return frame.crop(tuple(round(v) for v in box)).resize((TILE, TILE))
