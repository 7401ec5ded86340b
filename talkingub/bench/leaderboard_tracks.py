"""The evaluation tracks of the trained methods in the tables (`SynthesisModel.track`,
recorded as `track` in each evaluation's summary.json: `talkingub.bench.evaluate`).

one-shot (one source image: FOMM, MRAA, TPSMM, LIA, OSFV, PTUS, LivePortrait), few-shot (N
frames of the source person's video as well: Head3D, `talkingub.bench.few_shot`) and
person-specific (one model per person, trained on that person's frames) see different inputs,
so a row is never ranked against another track without saying so: when the methods' table
holds any track but one-shot, every row's first cell names its track (`head3d (few-shot)`),
the bold value of a column is the best within each track, and a note under the table says
so (Markdown, LaTeX, the HTML page); the CSV's `track` column carries each method's track.
An evaluation that records no track (written before tracks existed) is one-shot: every method
then was. Tables of one-shot methods only look as they always did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from talkingub.models.base import ONE_SHOT

TRACKS_NOTE = (
    "Tracks: one-shot methods animate one source image; few-shot methods also see N frames "
    "of the source person's video (never the driving frames); person-specific methods train "
    "one model per person on that person's frames. Each row names its track; the bold value "
    "of a column is the best within a track: rows of different tracks are not ranked against "
    "each other."
)


def method_tracks(summaries: Sequence[dict[str, Any]], methods: Sequence[str]) -> dict[str, str]:
    """method -> the track its evaluations recorded (none recorded: one-shot)."""
    found: dict[str, str] = {}
    for summary in summaries:
        method = str(summary.get("method"))
        if method in methods:
            found.setdefault(method, str(summary.get("track") or ONE_SHOT))
    return {method: found.get(method, ONE_SHOT) for method in methods}


def labelled(tracks: dict[str, str]) -> bool:
    """Whether the rows name their tracks: some method is not one-shot."""
    return any(track != ONE_SHOT for track in tracks.values())


def row_label(method: str, tracks: dict[str, str]) -> str:
    return f"{method} ({tracks[method]})" if labelled(tracks) else method


def peers(method: str, tracks: dict[str, str]) -> tuple[str, ...]:
    """The methods a method's cells are ranked among: those of its track."""
    return tuple(m for m, track in tracks.items() if track == tracks[method])


def markdown_note(summaries: Sequence[dict[str, Any]], methods: Sequence[str]) -> str:
    return f"\n{TRACKS_NOTE}\n" if labelled(method_tracks(summaries, methods)) else ""


def latex_note(
    note: str | None, summaries: Sequence[dict[str, Any]], methods: Sequence[str]
) -> str | None:
    """`note` (the builds' note, or None) with the tracks' note after it when labelled."""
    if not labelled(method_tracks(summaries, methods)):
        return note
    return f"{note} {TRACKS_NOTE}" if note else TRACKS_NOTE


def with_method_tracks(rows: pd.DataFrame, summaries: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The CSV rows of the methods' block (`block` "ours") with their method's track."""
    if rows.empty or "block" not in rows:
        return rows
    ours = rows["block"] == "ours"
    tracks = method_tracks(summaries, [str(m) for m in rows.loc[ours, "method"]])
    out = rows.copy()
    out.loc[ours, "track"] = out.loc[ours, "method"].map(lambda m: tracks[str(m)])
    return out
