"""Cells of the leaderboard tables (`talkingub.bench.leaderboard` and the blocks beside it):
one score as text (mean ± 95% interval, ∞, n/a), the best of a set of methods per column, a
method's parameter count and timing, a Markdown table.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def _isnan(value: float) -> bool:
    return math.isnan(float(value))


def _best(
    scores: pd.DataFrame, column: tuple[str, str], among: tuple[str, ...] | None = None
) -> float | None:
    part = scores[(scores["task"] == column[0]) & (scores["metric"] == column[1])]
    if among is not None:
        part = part[part["method"].isin(among)]
    known = part[~part["mean"].map(_isnan)]
    if known.empty:
        return None
    hib = bool(known["higher_is_better"].iloc[0])
    return float(known["mean"].max() if hib else known["mean"].min())


def _cell(
    scores: pd.DataFrame,
    method: str,
    column: tuple[str, str],
    fmt: str,
    among: tuple[str, ...] | None = None,
) -> tuple[str, bool]:
    """The cell's text, and whether it is the best of the methods `among` (default: all)."""
    part = scores[
        (scores["method"] == method)
        & (scores["task"] == column[0])
        & (scores["metric"] == column[1])
    ]
    if part.empty or math.isnan(part["mean"].iloc[0]):
        return "n/a", False
    mean, half = float(part["mean"].iloc[0]), float(part["ci95"].iloc[0])
    if math.isinf(mean):
        text = ("-" if mean < 0 else "") + (r"$\infty$" if fmt == "latex" else "∞")
    else:
        text = _number(mean)
    if math.isfinite(half):
        text += (" ± " if fmt != "latex" else r" $\pm$ ") + _number(half)
    return text, mean == _best(scores, column, among)


def _number(value: float) -> str:
    magnitude = abs(value)
    return (
        f"{value:.4f}" if magnitude < 1 else f"{value:.3f}" if magnitude < 100 else f"{value:.1f}"
    )


def _bold(text: str, fmt: str) -> str:
    return rf"\textbf{{{text}}}" if fmt == "latex" else f"**{text}**"


def _extras(summaries: list[dict[str, Any]], method: str) -> list[str]:
    mine = [s for s in summaries if s["method"] == method]
    if not mine:
        return ["n/a", "n/a"]
    ms = [s["ms_per_frame"] for s in mine if s.get("ms_per_frame") is not None]
    return [f"{mine[0]['params'] / 1e6:.2f}", f"{sum(ms) / len(ms):.1f}" if ms else "n/a"]


def markdown_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body]) + "\n"


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The rows of `frames` (empty ones left out: pandas would warn), columns of the first."""
    full = [f for f in frames if not f.empty]
    return pd.concat(full, ignore_index=True) if full else frames[0]
