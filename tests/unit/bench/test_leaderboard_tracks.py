"""The evaluation tracks in the tables (issue 19): from hand-made evaluations of a one-shot, a
few-shot and a person-specific method, every table format (Markdown, LaTeX, CSV, HTML) names
each row's track, and a column's bold is the best within a track, never across tracks."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from talkingub.bench.build_ref import BuildRef
from talkingub.bench.leaderboard import write_tables
from talkingub.bench.leaderboard_html import write_leaderboard_html
from talkingub.bench.leaderboard_tracks import TRACKS_NOTE, method_tracks
from talkingub.models.base import FEW_SHOT, ONE_SHOT, PERSON_SPECIFIC, TRACKS
from tests.unit.bench.test_build_ref import fake_build

# method -> (track recorded in summary.json, same-identity L1); fomm2 records none (older)
RUNS = {
    "fomm": (ONE_SHOT, 0.30),
    "mraa": (ONE_SHOT, 0.20),
    "fomm2": (None, 0.25),
    "head3d": (FEW_SHOT, 0.10),
    "liu-ubkp": (PERSON_SPECIFIC, 0.05),
}


def _write_eval(folder: Path, method: str, track: str | None, l1: float, build: BuildRef) -> None:
    folder.mkdir(parents=True)
    cols = ["method", "seed", "task", "item", "metric", "value", "frames", "higher_is_better"]
    rows = [(method, 0, "same", "v1", "l1", l1, 2, False)]
    pd.DataFrame(rows, columns=cols).to_parquet(folder / "per_video.parquet")
    summary = {"method": method, "seed": 0, "totals": [], "params": 1e6, "ms_per_frame": 2.0}
    summary["build"] = build.to_dict()
    if track is not None:
        summary["track"] = track
    (folder / "summary.json").write_text(json.dumps(summary))


def _bench(tmp_path: Path, runs: dict[str, tuple[str | None, float]]) -> Path:
    build = BuildRef.from_build(fake_build(tmp_path / "build"))
    bench = tmp_path / "bench"
    for method, (track, l1) in runs.items():
        _write_eval(bench / method / "seed-0" / "eval", method, track, l1, build)
    return bench


def test_the_tracks_are_the_models_own() -> None:
    from talkingub import create_model, list_models
    from talkingub.models.registry import model_spec

    assert TRACKS == ("one-shot", "few-shot", "person-specific")
    assert model_spec("head3d").cls.track == FEW_SHOT
    assert model_spec("fomm").cls.track == ONE_SHOT
    assert all(model_spec(m).cls.track in TRACKS for m in list_models())
    assert create_model("head3d", "tiny").track == FEW_SHOT


def test_track_labels_reach_every_table_format(tmp_path: Path) -> None:
    bench = _bench(tmp_path, RUNS)
    methods = tuple(RUNS)
    tables = write_tables(bench, methods)
    labels = {
        "fomm": "fomm (one-shot)",
        "mraa": "mraa (one-shot)",
        "fomm2": "fomm2 (one-shot)",  # no track recorded: one-shot
        "head3d": "head3d (few-shot)",
        "liu-ubkp": "liu-ubkp (person-specific)",
    }
    md = tables.markdown.read_text().split("## Published")[0]
    # bold: the best within each track (mraa among the one-shot ones, each other alone)
    assert "| mraa (one-shot) | **0.2000** |" in md
    assert "| fomm (one-shot) | 0.3000 |" in md and "| fomm2 (one-shot) | 0.2500 |" in md
    assert "| head3d (few-shot) | **0.1000** |" in md
    assert "| liu-ubkp (person-specific) | **0.0500** |" in md
    assert TRACKS_NOTE in md

    tex = tables.latex.read_text().split(r"\end{table}")[0]
    for label in labels.values():
        assert f"{label} &" in tex
    assert r"mraa (one-shot) & \textbf{0.2000}" in tex and TRACKS_NOTE in tex

    csv = pd.read_csv(tables.csv)
    tracks = dict(zip(csv["method"], csv["track"]))
    assert tracks == {m: label.split("(")[1].rstrip(")") for m, label in labels.items()}

    page = write_leaderboard_html(bench, tables, methods, "tiny-cpu").read_text()
    ours = page.split('id="ours"')[1].split("</section>")[0]
    for label in labels.values():
        assert f"<td>{label}</td>" in ours
    assert "<td>mraa (one-shot)</td><td><strong>0.2000</strong>" in ours
    assert "<td>head3d (few-shot)</td><td><strong>0.1000</strong>" in ours
    assert html.escape(TRACKS_NOTE) in ours


def test_one_shot_tables_look_as_before(tmp_path: Path) -> None:
    runs = {m: RUNS[m] for m in ("fomm", "mraa", "fomm2")}
    bench = _bench(tmp_path, runs)
    tables = write_tables(bench, tuple(runs))
    md = tables.markdown.read_text()
    assert "| mraa | **0.2000** |" in md and "(one-shot)" not in md
    assert TRACKS_NOTE not in md and TRACKS_NOTE not in tables.latex.read_text()
    assert set(pd.read_csv(tables.csv)["track"]) == {ONE_SHOT}
    summaries = [{"method": "a", "track": FEW_SHOT}, {"method": "b"}]
    assert method_tracks(summaries, ("a", "b", "c")) == {
        "a": FEW_SHOT,
        "b": ONE_SHOT,
        "c": ONE_SHOT,
    }
