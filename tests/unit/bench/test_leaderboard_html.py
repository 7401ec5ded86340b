"""`OUT/report/leaderboard.html` from a hand-made leaderboard: the rows of ours (best bold),
the references (never ranked), the paper's numbers, the bar chart and a grid video by
relative link; opened in headless Chromium without a console error, every image and video
loaded (screenshot in the test's temp folder)."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from talkingub.bench.build_ref import BuildGroup, BuildRef
from talkingub.bench.figures import bar_chart, label_strip
from talkingub.bench.leaderboard import SCORE_COLUMNS, Tables
from talkingub.bench.leaderboard_html import page_path, write_leaderboard_html
from talkingub.bench.video import write_mp4
from tests.support.browser import check_page

METHODS = ("fomm", "ptus")
CELL = 128


def _scores() -> pd.DataFrame:
    rows = [
        ("fomm", "same", "l1", 0.0412, 0.0031, 2, False),
        ("ptus", "same", "l1", 0.0356, 0.0022, 2, False),
        ("fomm", "same", "psnr", 21.5, 0.4, 2, True),
        ("ptus", "same", "psnr", 22.25, 0.3, 2, True),
        ("fomm", "cross", "mkr", 0.5, math.nan, 2, True),
        ("ptus", "cross", "mkr", math.nan, math.nan, 0, True),
    ]
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def _references() -> pd.DataFrame:
    rows = [
        ("copy-source", "same", "l1", 0.0201, math.nan, 1, False),
        ("copy-source", "same", "psnr", 30.1, math.nan, 1, True),
        ("copy-driving", "same", "l1", 0.0, math.nan, 1, False),
        ("copy-driving", "same", "psnr", math.inf, math.nan, 1, True),
    ]
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def _grid(path: Path) -> None:
    """A tiny grid like `grid_video`'s: labels over source | driving | each method."""
    labels = ["source", "driving", *METHODS]
    header = label_strip(labels, CELL)
    frames = []
    for t in range(10):
        cells = np.zeros((CELL, CELL * len(labels), 3), np.uint8)
        for i in range(len(labels)):
            cells[:, i * CELL : (i + 1) * CELL] = (60 + 40 * i, 120, 200 - 40 * i)
            x = i * CELL + 8 * t
            cells[40:80, x : x + 24] = 255  # a square moving right
        frames.append(np.concatenate([header, cells], axis=0))
    write_mp4(path, np.stack(frames), fps=10.0)
    path.with_suffix(".txt").write_text(" | ".join(labels) + "\ncross: clip-7#0\n")


@pytest.fixture
def bench(tmp_path: Path) -> tuple[Path, Tables]:
    out = tmp_path / "bench out"  # a space: links are percent-encoded
    tables_dir = out / "tables"
    (tables_dir / "grids").mkdir(parents=True)
    paths = [tables_dir / f"leaderboard.{ext}" for ext in ("md", "tex", "csv")]
    for path in paths:
        path.write_text("x\n")
    for method, params in zip(METHODS, (59.8e6, 71.2e6)):
        for seed in (0, 1):
            folder = out / method / f"seed-{seed}" / "eval"
            folder.mkdir(parents=True)
            summary = {"method": method, "seed": seed, "params": params, "ms_per_frame": 12.5}
            (folder / "summary.json").write_text(json.dumps({**summary, "totals": []}))
    scores, refs = _scores(), _references()
    assert bar_chart(scores, tables_dir / "bars.png", references=refs) is not None
    _grid(tables_dir / "grids" / "clip-7#0.mp4")
    ref = BuildRef("/data/tub <build>", "abc123", "f" * 64)
    builds = (BuildGroup(ref, ("fomm seed 0", "ptus seed 0")),)
    return out, Tables(paths[0], paths[1], paths[2], scores, refs, builds)


def _write(bench: tuple[Path, Tables]) -> str:
    out, tables = bench
    path = write_leaderboard_html(out, tables, METHODS, "tiny-cpu", averaging="frame")
    assert path == page_path(out) == out / "report" / "leaderboard.html"
    return path.read_text()


def _row(text: str, name: str) -> str:
    found = re.search(rf"<tr><td>{re.escape(name)}</td>.*?</tr>", text)
    assert found, name
    return found.group(0)


def test_the_page_holds_ours_the_references_and_the_paper(bench: tuple[Path, Tables]) -> None:
    text = _write(bench)
    assert "<title>talkingub bench: tiny-cpu</title>" in text
    assert "<strong>tiny-cpu</strong>" in text
    ours = text.split('id="ours"')[1].split("</section>")[0]
    for header in ("same id. L1 ↓", "same id. PSNR ↑", "cross id. MKR ↑", "params (M)"):
        assert header in ours
    assert "<strong>0.0356 ± 0.0022</strong>" in _row(ours, "ptus")  # best L1: lower
    assert "<strong>22.250 ± 0.3000</strong>" in _row(ours, "ptus")  # best PSNR: higher
    assert "<td>0.0412 ± 0.0031</td>" in _row(ours, "fomm")
    assert "<td>n/a</td>" in _row(ours, "ptus") and "<td>59.80</td>" in _row(ours, "fomm")
    assert "n = 2 seeds" in ours and "95% Student-t" in ours
    refs = text.split('id="references"')[1].split("</section>")[0]
    assert "References (not ranked)" in refs and "<strong>" not in refs  # never ranked
    assert "<td>∞</td>" in _row(refs, "copy-driving")
    assert "<td>0.0201</td>" in _row(refs, "copy-source")
    assert "copy-" not in ours
    paper = text.split('id="paper"')[1]
    for needle in ("Table 1", "Table 3", "Table 4", "AAAI 2024", "<td>26.610</td>"):
        assert needle in paper
    assert "<code>/data/tub &lt;build&gt;</code> (config abc123, manifests ffffffffffff)" in text


def test_media_and_files_are_linked_relative_to_the_page(bench: tuple[Path, Tables]) -> None:
    text = _write(bench)
    assert '<img src="../tables/bars.png"' in text
    assert '<video src="../tables/grids/clip-7%230.mp4"' in text  # '#' percent-encoded
    assert 'href="../tables/leaderboard.csv"' in text
    assert "cross id. · item clip-7#0 — columns: source | driving | fomm | ptus" in text
    for src in re.findall(r'(?:src|href)="([^"]+)"', text):
        assert not re.match(r"[a-z]+:|/", src), src  # no scheme, no absolute path
    assert "<script" not in text


def test_mixed_builds_are_a_visible_note(bench: tuple[Path, Tables]) -> None:
    out, tables = bench
    other = BuildGroup(BuildRef("/data/tub", "def456", "0" * 64), ("copy-source",))
    unknown = BuildGroup(None, ("ptus seed 1",))
    mixed = dataclasses.replace(tables, builds=(*tables.builds, unknown, other))
    text = write_leaderboard_html(out, mixed, METHODS, "tiny-cpu").read_text()
    assert "<strong>Mixed builds</strong>" in text and "3 different builds" in text
    assert "unknown build" in text and "copy-source" in text


def test_the_page_opens_clean_in_headless_chromium(
    bench: tuple[Path, Tables], tmp_path: Path
) -> None:
    _write(bench)
    out, _ = bench
    report = check_page(page_path(out), tmp_path / "leaderboard.png")
    report.assert_clean()
    assert report.n_videos == len(list((out / "tables" / "grids").glob("*.mp4"))) == 1
    assert report.n_images >= 1
    assert (tmp_path / "leaderboard.png").stat().st_size > 10_000
