"""The report's histograms of analysed frames: face ratio and face sharpness, each with the
recipe's thresholds drawn, frames stacked as kept / failed this gate / not kept otherwise.

A frame's `gate` is its own first failing gate; `status` is the decision of its segment (a
frame can pass every gate and still sit in a rejected segment, e.g. one that is too short).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from talkingub.curate.config import FilterConfig
from talkingub.io.atomic import atomic_path

Row = dict[str, Any]
COLOURS = ("#54a24b", "#e45756", "#bab0ac")  # kept, failed this gate, not kept otherwise
FACE_RATIO_TOP = 1.2  # larger face ratios are counted in the last bin


@dataclasses.dataclass(frozen=True)
class Histogram:
    """One figure: a frames.parquet column, the gates that test it, its threshold lines."""

    column: str
    title: str
    xlabel: str
    gates: tuple[str, ...]
    gate_name: str  # how the legend names the gates
    thresholds: tuple[tuple[float, str], ...]
    log: bool = False


def histograms(filters: FilterConfig) -> dict[str, Histogram]:
    """File name (in report/) -> what it shows."""
    return {
        "face_ratio.png": Histogram(
            "face_ratio",
            "face ratio of analysed frames",
            "face height / upper-body height (above 1.2: last bin)",
            ("face_ratio_low", "face_ratio_high"),
            "face_ratio_low/high",
            (
                (filters.face_ratio_min, f"min {filters.face_ratio_min:.3g}"),
                (filters.face_ratio_max, f"max {filters.face_ratio_max:.3g}"),
            ),
        ),
        "sharpness.png": Histogram(
            "sharpness",
            "face sharpness of analysed frames",
            "variance of the Laplacian of the face crop (log scale)",
            ("blurry",),
            "blurry",
            ((filters.min_sharpness, f"min {filters.min_sharpness:g}"),),
            log=True,
        ),
    }


def write_histograms(folder: Path, frames: Sequence[Row], filters: FilterConfig) -> list[Path]:
    analysed = [f for f in frames if f.get("analysed")]
    return [
        histogram_png(analysed, spec, folder / name) for name, spec in histograms(filters).items()
    ]


def stacks(frames: Sequence[Row], spec: Histogram) -> tuple[list[np.ndarray], int]:
    """The column's values of kept frames, of frames failing `spec.gates`, of the other
    frames not kept; and how many frames have no value."""
    groups: list[list[float]] = [[], [], []]
    missing = 0
    for row in frames:
        value = row.get(spec.column)
        if value is None or not np.isfinite(value):
            missing += 1
        elif row.get("status") == "kept":
            groups[0].append(float(value))
        else:
            groups[1 if row.get("gate") in spec.gates else 2].append(float(value))
    return [np.asarray(g, dtype=float) for g in groups], missing


def bin_edges(values: np.ndarray, spec: Histogram) -> np.ndarray:
    if not spec.log:
        return np.linspace(0.0, FACE_RATIO_TOP, 49)
    threshold = spec.thresholds[0][0]
    lows = [threshold / 2] + ([float(values.min())] if values.size else [])
    highs = [threshold * 10] + ([float(values.max())] if values.size else [])
    return np.geomspace(max(min(lows), 1e-2), max(highs) * 1.05, 41)


def histogram_png(frames: Sequence[Row], spec: Histogram, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups, missing = stacks(frames, spec)
    edges = bin_edges(np.concatenate(groups), spec)
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    if sum(g.size for g in groups) == 0:
        ax.text(0.5, 0.5, "no analysed frame has this measure", ha="center", va="center")
        ax.set_axis_off()
    else:
        _draw(ax, groups, edges, spec)
    note = f" ({missing} frames without one)" if missing else ""
    ax.set_title(spec.title + note, fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path


def _draw(ax: Any, groups: list[np.ndarray], edges: np.ndarray, spec: Histogram) -> None:
    clipped = [np.clip(g, edges[0], edges[-1] - 1e-9) for g in groups]
    labels = [
        f"kept ({groups[0].size})",
        f"failed {spec.gate_name} ({groups[1].size})",
        f"not kept, other reason ({groups[2].size})",
    ]
    ax.hist(clipped, bins=edges, stacked=True, color=COLOURS, label=labels)
    for value, text in spec.thresholds:
        ax.axvline(value, color="#333", linestyle="--", linewidth=1)
        ax.annotate(
            text,
            (value, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
        )
    if spec.log:
        ax.set_xscale("log")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(spec.xlabel, fontsize=9)
    ax.set_ylabel("analysed frames", fontsize=9)
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)
