"""The zero-shot track in the tables (`talkingub.bench.zero_shot`): published weights
evaluated on the Talking-UB lists without training, read from `OUT/pretrained/<name>/eval/`.

`talkingub bench table` finds every such evaluation and shows it with the methods' columns in
a block of its own, after the references: a Markdown table under `ZERO_SHOT_TITLE` whose rows
also name the model and the official file each one ran, rows after a rule and a title line in
the LaTeX table, a section of the HTML page, and `block = track = zero-shot` in the CSV, whose
`track` column reads each method's own track for the methods (one-shot, few-shot, ...:
`leaderboard_tracks`) and `reference` for the references. These rows
are never bold and never ranked: the best value per column is the best of the methods trained
on Talking-UB, whatever the published weights score.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from talkingub.bench.leaderboard_cells import _cell, _extras, markdown_table
from talkingub.bench.zero_shot import TRACK, weights_label

BLOCK = TRACK  # the CSV's `block` of these rows
ZERO_SHOT_TITLE = "Zero-shot: published weights (not trained on Talking-UB, not ranked)"
ZERO_SHOT_LABEL = "published weights, zero-shot"
ZERO_SHOT_NOTE = (
    "The methods' published checkpoints (`talkingub weights import`), evaluated by the same "
    "code on the same lists without any training on Talking-UB (`talkingub bench eval "
    "--pretrained NAME=FILE`). They were trained on other data (VoxCeleb, TED-talks, ...), "
    "so they are not ranked with the methods trained here; each ran at its own resolution."
)
# the CSV's `track` of each block
TRACKS = {"ours": "trained", "references": "reference", BLOCK: TRACK}


def names_of(scores: pd.DataFrame) -> tuple[str, ...]:
    """The zero-shot rows of `scores`, in the order their evaluations were read (by name)."""
    return () if scores.empty else tuple(dict.fromkeys(str(m) for m in scores["method"]))


def zero_shot_rows(
    scores: pd.DataFrame,
    names: tuple[str, ...],
    columns: list[tuple[str, str]],
    fmt: str,
    summaries: list[dict[str, Any]],
) -> list[list[str]]:
    """One row per evaluation in the methods' columns, never bold, with parameters and
    timing."""
    cells = {name: [_cell(scores, name, column, fmt)[0] for column in columns] for name in names}
    return [[name, *cells[name], *_extras(summaries, name)] for name in names]


def markdown_block(
    scores: pd.DataFrame,
    names: tuple[str, ...],
    header: list[str],
    columns: list[tuple[str, str]],
    summaries: list[dict[str, Any]],
) -> str:
    """The block of leaderboard.md ("" when nothing was evaluated zero-shot); `header`: the
    methods' table header (its first cell is replaced by the track's label)."""
    if not names:
        return ""
    weights = {str(s.get("method")): weights_label(s) for s in summaries}
    rows = zero_shot_rows(scores, names, columns, "markdown", summaries)
    rows = [[*row, weights.get(row[0], "?")] for row in rows]
    table = markdown_table([ZERO_SHOT_LABEL, *header[1:], "weights"], rows)
    return f"\n### {ZERO_SHOT_TITLE}\n\n{ZERO_SHOT_NOTE}\n\n{table}"


def latex_blocks(
    scores: pd.DataFrame,
    names: tuple[str, ...],
    columns: list[tuple[str, str]],
    summaries: list[dict[str, Any]],
) -> list[tuple[str, list[list[str]]]]:
    """(title, rows) of the LaTeX table's zero-shot block; none when nothing was evaluated."""
    if not names:
        return []
    return [(ZERO_SHOT_TITLE, zero_shot_rows(scores, names, columns, "latex", summaries))]


def with_track(rows: pd.DataFrame) -> pd.DataFrame:
    """The CSV rows with their `track` (from their `block`)."""
    if rows.empty:
        return rows
    return rows.assign(track=rows["block"].map(lambda b: TRACKS.get(str(b), str(b))))
