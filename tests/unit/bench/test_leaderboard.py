"""Leaderboard arithmetic: frame-weighted re-aggregation, seeds -> mean ± 95% CI, arrows and
bold best values by metric direction, the paper block."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from talkingub.bench.leaderboard import (
    aggregate_videos,
    leaderboard_rows,
    markdown_table,
    mean_ci,
    over_seeds,
    paper_block,
    write_tables,
)


def per_video() -> pd.DataFrame:
    rows = []
    for method, l1, psnr in (("a", (0.1, 0.4), (20.0, 10.0)), ("b", (0.2, 0.2), (30.0, 30.0))):
        for item, frames in (("v1", 1), ("v2", 3)):
            k = 0 if item == "v1" else 1
            rows.append((method, 0, "same", item, "l1", l1[k], frames, False))
            rows.append((method, 0, "same", item, "psnr", psnr[k], frames, True))
    cols = ["method", "seed", "task", "item", "metric", "value", "frames", "higher_is_better"]
    return pd.DataFrame(rows, columns=cols)


def test_frame_and_video_averaging() -> None:
    frame = aggregate_videos(per_video(), "frame").set_index(["method", "metric"])["value"]
    assert frame[("a", "l1")] == pytest.approx((0.1 * 1 + 0.4 * 3) / 4)
    video = aggregate_videos(per_video(), "video").set_index(["method", "metric"])["value"]
    assert video[("a", "l1")] == pytest.approx(0.25)


def test_mean_ci_uses_student_t() -> None:
    mean, half, n = mean_ci([1.0, 2.0, 3.0])
    assert (mean, n) == (2.0, 3)
    assert half == pytest.approx(4.302653 * 1.0 / math.sqrt(3), rel=1e-5)
    assert math.isnan(mean_ci([5.0])[1])


def test_best_is_bold_by_direction_with_arrows() -> None:
    scores = over_seeds(aggregate_videos(per_video()))
    header, body = leaderboard_rows(scores, [], ("a", "b"), "markdown")
    assert any("L1 ↓" in h for h in header) and any("PSNR ↑" in h for h in header)
    table = dict(zip(header, zip(*body)))
    l1 = next(v for h, v in table.items() if "L1" in h)
    psnr = next(v for h, v in table.items() if "PSNR" in h)
    assert l1[1].startswith("**") and not l1[0].startswith("**")  # b: 0.2 < a: 0.325
    assert psnr[1].startswith("**")
    assert markdown_table(header, body).count("\n") == 4


def test_paper_block_has_tables_1_3_4_and_the_citation() -> None:
    text = paper_block("markdown")
    for needle in (
        "Table 1",
        "Table 3",
        "Table 4",
        "AAAI 2024",
        "26.610",
        "0.1410",
        "ptus-no-lgmd",
    ):
        assert needle in text
    assert r"\begin{tabular}" in paper_block("latex")


def test_the_latex_leaderboard_says_first_that_it_needs_booktabs(tmp_path: Path) -> None:
    rows = per_video()
    for method, group in rows.groupby("method"):
        folder = tmp_path / str(method) / "seed-0" / "eval"
        folder.mkdir(parents=True)
        group.to_parquet(folder / "per_video.parquet")
        summary = {"method": method, "seed": 0, "totals": [], "params": 1e6, "ms_per_frame": 1.0}
        (folder / "summary.json").write_text(json.dumps(summary))
    tables = write_tables(tmp_path, ("a", "b"))
    tex = tables.latex.read_text()
    assert tex.splitlines()[0] == r"% requires \usepackage{booktabs}"
    assert r"\toprule" in tex and tex.count(r"\usepackage") == 1
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    [line] = [x for x in readme.splitlines() if "`leaderboard.tex`" in x]
    assert r"\usepackage{booktabs}" in line
    # ms/frame comes with its caveat: a time measured during evaluation, not a benchmark
    md = tables.markdown.read_text()
    assert "ms/frame" in md and "varies from run to run" in md and "bench_gpu.py" in md


def _write_eval(folder: Path, rows: pd.DataFrame, method: str, reference: bool = False) -> None:
    folder.mkdir(parents=True)
    rows.assign(method=method).to_parquet(folder / "per_video.parquet")
    summary = {"method": method, "seed": 0, "totals": [], "params": 0 if reference else 1e6}
    summary["ms_per_frame"] = None if reference else 1.0
    (folder / "summary.json").write_text(json.dumps(summary))


def test_references_have_their_own_block_in_every_format_and_are_never_ranked(
    tmp_path: Path,
) -> None:
    rows = per_video()
    for method, group in rows.groupby("method"):
        _write_eval(tmp_path / str(method) / "seed-0" / "eval", group, str(method))
    # copy-driving beats every method (L1 0, PSNR at the cap); copy-source does not
    exact = rows[rows["method"] == "a"].assign(value=[0.0, 100.0, 0.0, 100.0])
    copy = rows[rows["method"] == "a"].assign(value=[0.5, 9.0, 0.5, 9.0])
    _write_eval(tmp_path / "references" / "copy-driving" / "eval", exact, "copy-driving", True)
    _write_eval(tmp_path / "references" / "copy-source" / "eval", copy, "copy-source", True)
    refs = ("copy-source", "copy-driving", "never-evaluated")
    tables = write_tables(tmp_path, ("a", "b"), references=refs)

    md = tables.markdown.read_text()
    ours, rest = md.split("### References (not ranked)")
    assert "| b | **0.2000** | **30.000** | 1.00 | 1.0 |" in ours and "copy-" not in ours
    assert "| copy-source | 0.5000 | 9.000 | - | - |" in rest
    assert "| copy-driving | 0.0000 | 100.0 | - | - |" in rest  # better, yet not bold
    assert rest.index("copy-source") < rest.index("copy-driving") < rest.index("## Published")
    assert "never-evaluated" not in md and "**" not in rest.split("## Published")[0]

    tex = tables.latex.read_text()
    block = tex.split(r"\emph{References (not ranked)}")[1].split(r"\bottomrule")[0]
    assert r"copy-source & 0.5000 & 9.000 & - & - \\" in block
    assert r"copy-driving & 0.0000 & 100.0 & - & - \\" in block
    assert tex.index(r"\textbf{0.2000}") < tex.index("References")

    csv = pd.read_csv(tables.csv)
    assert set(csv.loc[csv["block"] == "ours", "method"]) == {"a", "b"}
    refs_csv = csv[csv["block"] == "references"]
    assert list(dict.fromkeys(refs_csv["method"])) == ["copy-source", "copy-driving"]
    l1 = refs_csv.set_index(["method", "metric"])["mean"]
    assert l1[("copy-source", "l1")] == pytest.approx(0.5)
    assert list(tables.scores["method"].unique()) == ["a", "b"]  # the ranked scores only
    assert list(tables.references["method"].unique()) == ["copy-source", "copy-driving"]


def test_an_infinite_value_is_shown_as_infinity_not_dropped(tmp_path: Path) -> None:
    rows = per_video()
    rows.loc[(rows["method"] == "b") & (rows["metric"] == "psnr"), "value"] = math.inf
    scores = over_seeds(aggregate_videos(rows))
    assert scores.set_index(["method", "metric"])["mean"][("b", "psnr")] == math.inf
    _, body = leaderboard_rows(scores, [], ("a", "b"), "markdown")
    assert "**∞**" in body[1]
    _, latex = leaderboard_rows(scores, [], ("a", "b"), "latex")
    assert r"\textbf{$\infty$}" in latex[1]
    assert mean_ci([math.inf, math.inf])[0] == math.inf
