"""The leaderboard and the builds its numbers are on (issue 18, item 4): one build heads the
tables; evaluations of different builds (or of an unknown build beside known ones) are
refused by name, and with `--allow-mixed-builds` tabled with a note in every format."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from talkingub.bench.build_ref import BuildRef, MixedBuildsError
from talkingub.bench.leaderboard import write_tables
from talkingub.cli import main
from tests.unit.bench.test_build_ref import fake_build


def _rows(method: str, l1: float) -> pd.DataFrame:
    cols = ["method", "seed", "task", "item", "metric", "value", "frames", "higher_is_better"]
    return pd.DataFrame([(method, 0, "same", "v1", "l1", l1, 2, False)], columns=cols)


def _write_eval(
    folder: Path, method: str, build: BuildRef | None, l1: float = 0.1, reference: bool = False
) -> None:
    folder.mkdir(parents=True)
    _rows(method, l1).to_parquet(folder / "per_video.parquet")
    summary = {"method": method, "seed": 0, "totals": [], "params": 0 if reference else 1e6}
    summary["ms_per_frame"] = None if reference else 1.0
    if reference:
        summary["reference"] = True
    if build is not None:
        summary["build"] = build.to_dict()
    (folder / "summary.json").write_text(json.dumps(summary))


def _bench(tmp_path: Path, refs: dict[str, BuildRef | None]) -> Path:
    """An evaluation of each named run (`copy-*`: a reference) on the given build."""
    bench = tmp_path / "bench"
    for i, (name, ref) in enumerate(refs.items()):
        if name.startswith("copy-"):
            folder = bench / "references" / name / "eval"
            _write_eval(folder, name, ref, 0.5, reference=True)
        else:
            _write_eval(bench / name / "seed-0" / "eval", name, ref, 0.1 * (i + 1))
    return bench


def _builds(tmp_path: Path) -> tuple[BuildRef, BuildRef]:
    one = BuildRef.from_build(fake_build(tmp_path / "one"))
    two = BuildRef.from_build(fake_build(tmp_path / "two", "feed00000002", "v2"))
    return one, two


def test_one_build_heads_every_table(tmp_path: Path) -> None:
    one, _ = _builds(tmp_path)
    bench = _bench(tmp_path, {"fomm": one, "mraa": one, "copy-source": one})
    tables = write_tables(bench, ("fomm", "mraa"), references=("copy-source",))
    md = tables.markdown.read_text()
    assert md.split("## Ours")[0].strip().splitlines()[-1] == (
        f"Build: `{one.path}` (config c0ffee000001, manifests {one.manifest_digest[:12]})."
    )
    assert "Mixed" not in md
    tex = tables.latex.read_text().splitlines()
    assert tex[0] == r"% requires \usepackage{booktabs}"
    assert tex[1] == f"% build: {one.path} ({one.label})"
    csv = pd.read_csv(tables.csv)
    assert set(csv["build"]) == {one.label}
    assert not tables.mixed_builds and [g.ref for g in tables.builds] == [one]
    assert tables.builds[0].runs == ("fomm seed 0", "mraa seed 0", "copy-source")


def test_evaluations_of_two_builds_are_refused_by_name(tmp_path: Path) -> None:
    one, two = _builds(tmp_path)
    bench = _bench(tmp_path, {"fomm": one, "mraa": two})
    with pytest.raises(MixedBuildsError) as caught:
        write_tables(bench, ("fomm", "mraa"))
    assert f"{one.label}: fomm seed 0; {two.label}: mraa seed 0" in str(caught.value)
    assert not (bench / "tables").exists()  # nothing written


def test_a_reference_of_another_build_is_refused_too(tmp_path: Path) -> None:
    one, two = _builds(tmp_path)
    bench = _bench(tmp_path, {"fomm": one, "copy-source": two})
    with pytest.raises(MixedBuildsError, match=f"{two.label}: copy-source"):
        write_tables(bench, ("fomm",), references=("copy-source",))
    assert write_tables(bench, ("fomm",)).builds[0].ref == one  # not tabled: not checked


def test_allowed_mixed_builds_are_listed_in_every_format(tmp_path: Path) -> None:
    one, two = _builds(tmp_path)
    bench = _bench(tmp_path, {"fomm": one, "mraa": two, "copy-source": two})
    tables = write_tables(
        bench, ("fomm", "mraa"), references=("copy-source",), allow_mixed_builds=True
    )
    assert tables.mixed_builds and [g.ref for g in tables.builds] == [one, two]
    head = tables.markdown.read_text().split("## Ours")[0]
    assert "**Mixed builds** (tabled with `--allow-mixed-builds`)" in head
    assert f"- `{one.path}` ({one.label}): fomm seed 0" in head
    assert f"- `{two.path}` ({two.label}): mraa seed 0, copy-source" in head
    tex = tables.latex.read_text()
    note = tex.split(r"\end{tabular}")[1].split(r"\end{table}")[0]
    assert r"\emph{Mixed builds" in note and one.label in note and two.label in note
    assert f"% build: {two.path} ({two.label}): mraa seed 0, copy-source" in tex
    csv = pd.read_csv(tables.csv).drop_duplicates("method").set_index("method")["build"]
    assert csv.to_dict() == {"fomm": one.label, "mraa": two.label, "copy-source": two.label}


def test_an_unknown_build_beside_a_known_one_is_refused_alone_it_is_tabled(
    tmp_path: Path,
) -> None:
    one, _ = _builds(tmp_path)
    bench = _bench(tmp_path, {"fomm": None, "mraa": one})
    with pytest.raises(MixedBuildsError, match="re-run `talkingub bench eval`"):
        write_tables(bench, ("fomm", "mraa"))
    tables = write_tables(bench, ("fomm",))
    head = tables.markdown.read_text().split("## Ours")[0]
    assert "Build: unknown build (evaluated by an older talkingub" in head
    assert pd.read_csv(tables.csv)["build"].tolist() == ["unknown build"]


def test_a_checkpoint_evaluated_on_another_build_counts_as_a_run_of_both(
    tmp_path: Path,
) -> None:
    one, two = _builds(tmp_path)
    bench = _bench(tmp_path, {"fomm": two, "mraa": two})
    summary_path = bench / "fomm" / "seed-0" / "eval" / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary_path.write_text(json.dumps({**summary, "trained_on": one.to_dict()}))
    with pytest.raises(MixedBuildsError, match=rf"{one.label}: fomm seed 0 \(trained\)"):
        write_tables(bench, ("fomm", "mraa"))
    tables = write_tables(bench, ("fomm", "mraa"), allow_mixed_builds=True)
    assert [g.runs for g in tables.builds] == [
        ("fomm seed 0", "mraa seed 0"),
        ("fomm seed 0 (trained)",),
    ]
    csv = pd.read_csv(tables.csv).drop_duplicates("method").set_index("method")["build"]
    assert csv["fomm"] == f"{two.label}; {one.label}" and csv["mraa"] == two.label
    summary_path.write_text(json.dumps({**summary, "trained_on": two.to_dict()}))
    assert not write_tables(bench, ("fomm", "mraa")).mixed_builds  # trained where evaluated


def test_bench_table_refuses_in_one_line_and_the_flag_tables(tmp_path: Path) -> None:
    one, two = _builds(tmp_path)
    bench = _bench(tmp_path, {"fomm": one, "mraa": two})
    args = ["bench", "table", str(tmp_path / "one"), "-o", str(bench)]
    args += ["--methods", "fomm,mraa", "--no-references"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2, refused.output
    [line] = [x for x in refused.output.splitlines() if x.startswith("error:")]
    assert line.startswith("error: the evaluations come from 2 different builds: ")
    assert "fomm seed 0" in line and "mraa seed 0" in line
    done = CliRunner().invoke(main, [*args, "--allow-mixed-builds"])
    assert done.exit_code == 0, done.output
    assert "**Mixed builds**" in done.output
    assert "**Mixed builds**" in (bench / "tables" / "leaderboard.md").read_text()
