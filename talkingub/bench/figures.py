"""Figures: a bar chart of the main metrics and qualitative grid videos
(source | driving | each method) for selected evaluation items.

Reference rows (copy-source, copy-driving) are dashed horizontal lines across a panel, never
bars among the methods (an infinite value, PSNR of an exact copy, is named in the legend);
a grid needs no column for them: its source and driving columns are their outputs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from talkingub.bench.data import ClipStore
from talkingub.bench.lists import CrossItem, SameItem
from talkingub.bench.video import read_mp4, write_mp4
from talkingub.io.atomic import atomic_path
from talkingub.metrics.media import resize

REFERENCE_STYLE = {"copy-source": ("#c44e52", "--"), "copy-driving": ("#55a868", ":")}


def bar_chart(
    scores: pd.DataFrame,
    path: Path,
    task: str = "same",
    references: pd.DataFrame | None = None,
) -> Path | None:
    """One panel per metric of `task`, one bar per method (mean, 95% interval if any); each
    reference of `references` (same columns as `scores`) a labelled horizontal line."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    part = scores[(scores["task"] == task) & scores["mean"].map(math.isfinite)]
    metrics = list(dict.fromkeys(part["metric"]))
    if not metrics:
        return None
    fig, axes = plt.subplots(1, len(metrics), figsize=(3 * len(metrics), 3), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        rows = part[part["metric"] == metric]
        errors = rows["ci95"].fillna(0).to_numpy()
        ax.bar(rows["method"], rows["mean"], yerr=errors, color="#4c72b0")
        arrow = "↑" if bool(rows["higher_is_better"].iloc[0]) else "↓"
        ax.set_title(f"{metric.upper()} {arrow}")
        ax.tick_params(axis="x", rotation=45)
        if _reference_lines(ax, references, task, metric):
            ax.legend(fontsize=6, loc="best")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path


def _reference_lines(ax: Any, references: pd.DataFrame | None, task: str, metric: str) -> bool:
    """Dashed lines of the references' values in one panel; True when any was drawn."""
    if references is None or references.empty:
        return False
    rows = references[(references["task"] == task) & (references["metric"] == metric)]
    drawn = False
    for row in rows.itertuples():
        value = float(row.mean)
        if math.isnan(value):
            continue
        color, style = REFERENCE_STYLE.get(str(row.method), ("#8172b2", "-."))
        if math.isinf(value):  # no line at infinity: the legend names it
            ax.plot([], [], color=color, linestyle=style, label=f"{row.method} (∞)")
        else:
            ax.axhline(value, color=color, linestyle=style, linewidth=1.2, label=str(row.method))
        drawn = True
    return drawn


def grid_video(
    item: SameItem | CrossItem,
    task: str,
    store: ClipStore,
    method_videos: dict[str, Path],
    path: Path,
    size: int = 256,
) -> Path:
    """Columns: source image, driving frames, then each method's output, all at `size`."""
    frames = list(item.driving_frames)
    source_clip = item.source_clip if isinstance(item, CrossItem) else item.clip_id
    source = resize(store.frames(source_clip, [item.source_frame])[0], size)
    driving = [resize(f, size) for f in store.frames(item.clip_id, frames)]
    outputs = {m: read_mp4(p) for m, p in method_videos.items() if p.is_file()}
    labels = ["source", "driving", *outputs]
    header = label_strip(labels, size)
    rows = []
    for t in range(len(frames)):
        cells = [source, driving[t]] + [
            resize(v[min(t, len(v) - 1)][: v.shape[1], : v.shape[2]], size)
            for v in outputs.values()
        ]
        rows.append(np.concatenate([header, np.concatenate(cells, axis=1)], axis=0))
    fps = float(store.index.clips[item.clip_id].meta.get("fps") or 25.0)
    path.with_suffix(".txt").parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".txt").write_text(" | ".join(labels) + f"\n{task}: {item.item}\n")
    return write_mp4(path, np.stack(rows), fps)


def label_strip(labels: list[str], size: int, height: int = 24) -> np.ndarray:
    """A white strip with each column's name centred over its `size`-wide cell (PIL only,
    so the bench needs no OpenCV)."""
    from PIL import Image, ImageDraw, ImageFont

    strip = Image.new("RGB", (size * len(labels), height), "white")
    draw = ImageDraw.Draw(strip)
    font = ImageFont.load_default(size=max(10, height * 2 // 3))
    for i, label in enumerate(labels):
        x0, y0, x1, y1 = draw.textbbox((0, 0), label, font=font)
        origin = (i * size + max(0, (size - (x1 - x0)) // 2), (height - (y1 - y0)) // 2 - y0)
        draw.text(origin, label, fill="black", font=font)
    return np.asarray(strip)
