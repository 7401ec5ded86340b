"""The bench's other tracks end to end on a real peer build (issue 19): `talkingub bench run
--protocol tiny-cpu --methods head3d,fomm` trains Head3D (few-shot: N subject frames of the
source's video) beside a one-shot method on CPU, evaluates both on the same lists and writes
tables whose every row names its track."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
import pytest

from talkingub.bench.leaderboard_tracks import TRACKS_NOTE
from talkingub.cli import main

pytestmark = pytest.mark.slow

METHODS = ("head3d", "fomm")
TRACK = {"head3d": "few-shot", "fomm": "one-shot"}


@pytest.fixture(scope="module")
def bench_out(tiny_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tiny_build
    out = tmp_path_factory.mktemp("tracks-bench") / "out"
    args = ["bench", "run", str(build), "-o", str(out), "--protocol", "tiny-cpu"]
    args += ["--methods", ",".join(METHODS), "--device", "cpu", "--no-progress"]
    main.main(args, prog_name="talkingub", standalone_mode=False)
    return out


def test_every_row_names_its_track_in_every_table(bench_out: Path) -> None:
    tables = bench_out / "tables"
    md = (tables / "leaderboard.md").read_text().split("### References")[0]
    full_tex = (tables / "leaderboard.tex").read_text()
    tex = full_tex.split(r"\emph{References")[0]
    page = (bench_out / "report" / "leaderboard.html").read_text().split('id="references"')[0]
    for method, track in TRACK.items():
        assert f"| {method} ({track}) |" in md
        assert f"{method} ({track}) &" in tex
        assert f"<td>{method} ({track})</td>" in page
    assert TRACKS_NOTE in md and html.escape(TRACKS_NOTE) in page and TRACKS_NOTE in full_tex
    csv = pd.read_csv(tables / "leaderboard.csv")
    ours = csv[csv["block"] == "ours"]
    assert dict(zip(ours["method"], ours["track"])) == TRACK


def test_head3d_records_its_subject_frames_and_track(bench_out: Path) -> None:
    summary = json.loads((bench_out / "head3d" / "seed-0" / "eval" / "summary.json").read_text())
    assert summary["track"] == "few-shot"
    few = summary["few_shot"]
    assert few["frames"] == 2  # the tiny config's N
    assert few["same"]["items"] >= 1 and few["cross"]["items"] >= 1
    fomm = json.loads((bench_out / "fomm" / "seed-0" / "eval" / "summary.json").read_text())
    assert fomm["track"] == "one-shot" and "few_shot" not in fomm
    log = pd.read_csv(bench_out / "head3d" / "seed-0" / "train_log.csv")
    stages = {n.split("/")[0] for n in log["name"] if n.endswith("/total")}
    assert stages == {"stage1", "stage2", "stage3"}  # tiny-cpu's 4 steps train every stage
