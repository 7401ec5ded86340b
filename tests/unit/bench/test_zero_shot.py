"""The zero-shot track (issue 21, item 3) without a model: `--pretrained NAME=FILE` parsing,
and tables from hand-made evaluations, where the published weights form a block of their own
(md, tex, csv `track`, html) that never takes the methods' bold, and whose evaluation build
the one-build rule still checks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from talkingub.bench.build_ref import BuildRef, MixedBuildsError
from talkingub.bench.leaderboard import write_tables
from talkingub.bench.leaderboard_html import write_leaderboard_html
from talkingub.bench.zero_shot import (
    Pretrained,
    parse_pretrained,
    pretrained_dir,
    refuse_trained,
    weights_label,
)
from talkingub.errors import ConfigError
from tests.unit.bench.test_build_ref import fake_build

SOURCE = {"file": "/w/vox-cpk.pth.tar", "sha256": "ab" * 32, "layout": "first-order-model"}


def test_pretrained_specs_are_parsed_and_checked(tmp_path: Path) -> None:
    weights = tmp_path / "fomm.pt"
    weights.write_bytes(b"x")
    assert parse_pretrained([f"fomm-vox={weights}", f" tpsmm.ted = {weights}"]) == (
        Pretrained("fomm-vox", weights),
        Pretrained("tpsmm.ted", weights),
    )
    for bad, said in (
        ("fomm.pt", "expected NAME=FILE"),
        (f"={weights}", "expected NAME=FILE"),
        (f"../up={weights}", "NAME must be"),
        (f"a b={weights}", "NAME must be"),
        (f"x={tmp_path / 'missing.pt'}", "checkpoint not found"),
    ):
        with pytest.raises(ConfigError, match=said):
            parse_pretrained([bad])
    with pytest.raises(ConfigError, match="given twice"):
        parse_pretrained([f"a={weights}", f"a={weights}"])
    assert pretrained_dir(tmp_path, "fomm-vox") == tmp_path / "pretrained" / "fomm-vox"


def test_weights_trained_on_talking_ub_are_not_published_weights(tmp_path: Path) -> None:
    build = BuildRef.from_build(fake_build(tmp_path / "b"))
    refuse_trained("x", tmp_path / "x.pt", None)  # published weights: no build recorded
    with pytest.raises(ConfigError, match="not published weights"):
        refuse_trained("x", tmp_path / "x.pt", build)
    assert weights_label({"model": "fomm", "source": SOURCE}) == "fomm (vox-cpk.pth.tar)"
    assert weights_label({"model": "tpsmm"}) == "tpsmm (no source recorded)"


def _write_eval(folder: Path, method: str, build: BuildRef, l1: float, psnr: float) -> None:
    folder.mkdir(parents=True)
    cols = ["method", "seed", "task", "item", "metric", "value", "frames", "higher_is_better"]
    rows = [
        (method, 0, "same", "v1", "l1", l1, 2, False),
        (method, 0, "same", "v1", "psnr", psnr, 2, True),
    ]
    pd.DataFrame(rows, columns=cols).to_parquet(folder / "per_video.parquet")
    summary = {"method": method, "seed": 0, "totals": [], "params": 2e6, "ms_per_frame": 3.0}
    summary["build"] = build.to_dict()
    if "pretrained" in folder.parts:
        summary.update(track="zero-shot", model="fomm", source=SOURCE, trained_on=None)
    (folder / "summary.json").write_text(json.dumps(summary))


def _bench(tmp_path: Path, zero_build: BuildRef | None = None) -> Path:
    """fomm and mraa trained; published weights that beat both on every column."""
    build = BuildRef.from_build(fake_build(tmp_path / "build"))
    bench = tmp_path / "bench"
    _write_eval(bench / "fomm" / "seed-0" / "eval", "fomm", build, 0.20, 20.0)
    _write_eval(bench / "mraa" / "seed-0" / "eval", "mraa", build, 0.10, 25.0)
    folder = pretrained_dir(bench, "fomm-vox") / "eval"
    _write_eval(folder, "fomm-vox", zero_build or build, 0.01, 40.0)
    return bench


def test_published_weights_are_a_block_of_their_own_never_ranked(tmp_path: Path) -> None:
    bench = _bench(tmp_path)
    tables = write_tables(bench, ("fomm", "mraa"))
    md = tables.markdown.read_text()
    ours, zero = md.split("## Published (PTUS paper)")[0].split("### Zero-shot")
    assert "| **0.1000** |" in ours and "| **25.000** |" in ours  # mraa: best of the trained
    assert "fomm-vox" not in ours
    assert zero.startswith(": published weights (not trained on Talking-UB, not ranked)")
    assert "| published weights, zero-shot |" in zero and "| weights |" in zero
    assert "| fomm-vox | 0.0100 | 40.000 | 2.00 | 3.0 | fomm (vox-cpk.pth.tar) |" in zero
    assert "**" not in zero

    tex = tables.latex.read_text()
    table = tex.split(r"\end{table}")[0]
    block = table.split(r"\emph{Zero-shot: published weights")[1].split(r"\bottomrule")[0]
    assert "fomm-vox &" in block and r"\textbf" not in block
    assert r"\textbf{0.1000}" in table.split(r"\emph{Zero-shot")[0]

    csv = pd.read_csv(tables.csv)
    tracks = dict(zip(csv["method"], csv["track"]))
    # the trained methods carry their own track (leaderboard_tracks): none recorded, one-shot
    assert tracks == {"fomm": "one-shot", "mraa": "one-shot", "fomm-vox": "zero-shot"}
    assert set(csv[csv["track"] == "zero-shot"]["block"]) == {"zero-shot"}
    assert [g.runs for g in tables.builds] == [
        ("fomm seed 0", "mraa seed 0", "fomm-vox (zero-shot)")
    ]
    assert list(tables.zero_shot["method"].unique()) == ["fomm-vox"]

    page = write_leaderboard_html(bench, tables, ("fomm", "mraa"), "tiny-cpu").read_text()
    section = page.split('id="zero-shot"')[1].split("</section>")[0]
    assert "<td>fomm-vox</td>" in section and "<strong>" not in section
    assert "fomm (vox-cpk.pth.tar)" in section and 'href="#zero-shot"' in page
    assert "<strong>0.1000</strong>" in page.split('id="zero-shot"')[0]


def test_the_evaluation_build_of_published_weights_is_checked(tmp_path: Path) -> None:
    other = BuildRef.from_build(fake_build(tmp_path / "other", "feed00000002", "v2"))
    bench = _bench(tmp_path, zero_build=other)
    with pytest.raises(MixedBuildsError, match=r"fomm-vox \(zero-shot\)"):
        write_tables(bench, ("fomm", "mraa"))


def test_published_weights_alone_are_tabled(tmp_path: Path) -> None:
    bench = _bench(tmp_path)
    tables = write_tables(bench, ("ptus",))  # no trained evaluation of the protocol's methods
    assert "| fomm-vox |" in tables.markdown.read_text().split("### Zero-shot")[1]
