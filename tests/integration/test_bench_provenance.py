"""Bench provenance on a real build (issue 18, item 4): training and evaluation record the
build (config hash, manifest digest); after `refilter` rewrites the manifests, a checkpoint of
the old build is not evaluated on the new one, and `bench table` refuses to mix evaluations
of the two builds, naming them, unless `--allow-mixed-builds`, when the tables say so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from talkingub.bench.build_ref import BuildRef
from talkingub.cli import main
from talkingub.curate.refilter import refilter
from tests.integration.conftest import tiny_bench_build

pytestmark = pytest.mark.slow

RUN = ("--device", "cpu", "--no-progress")


@pytest.fixture(scope="module")
def build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bench e2e's tiny build (one training clip, two test identities), of its own: the
    test refilters it in place."""
    return tiny_bench_build(request, tmp_path_factory.mktemp("provenance-build"))


def _bench(*args: str) -> Result:
    return CliRunner().invoke(main, ["bench", *args])


def _ok(*args: str) -> Result:
    result = _bench(*args)
    assert result.exit_code == 0, result.output
    return result


def _errors(result: Result) -> list[str]:
    """The error lines of a command's output (progress bars aside)."""
    return [x for x in result.output.splitlines() if x.startswith("error:")]


def _recorded(path: Path, key: str = "build") -> BuildRef:
    return BuildRef.from_dict(json.loads(path.read_text())[key])


def test_a_refiltered_build_is_not_mixed_into_the_tables_unless_allowed(
    build: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bench"
    where = (str(build), "-o", str(out))
    _ok("train", *where, "--methods", "fomm", "--steps", "1", *RUN)
    _ok("eval", *where, "--methods", "fomm", *RUN)
    before = BuildRef.from_build(build)
    assert before.config_hash == json.loads((build / "build.json").read_text())["config_hash"]
    fomm = out / "fomm" / "seed-0"
    assert _recorded(fomm / "run.json") == before
    assert _recorded(fomm / "eval" / "summary.json") == before
    assert _recorded(fomm / "eval" / "summary.json", "trained_on") == before
    assert _recorded(out / "references" / "copy-source" / "eval" / "summary.json") == before
    table = _ok("table", *where, "--methods", "fomm")
    assert f"Build: `{before.path}` ({before.label})." in table.output
    grids = out / "tables" / "grids"
    assert list(grids.glob("*.mp4"))  # the runs are on the build at BUILD_DIR
    for old in grids.iterdir():
        old.unlink()

    # new thresholds in place: the manifests change, and so does the build's ref
    refilter(build, {"split.train_fps": 2.0}, workers=1, progress=False)
    after = BuildRef.from_build(build)
    assert after.path == before.path and after.config_hash != before.config_hash
    assert after.manifest_digest != before.manifest_digest
    stale = _bench("eval", *where, "--methods", "fomm", *RUN)
    assert stale.exit_code == 2 and "eval_lists.json was made with" in stale.output
    (out / "eval_lists.json").unlink()  # what that message offers
    refused = _bench("eval", *where, "--methods", "fomm", *RUN)
    assert refused.exit_code == 2, refused.output
    [line] = _errors(refused)
    assert line.startswith(f"error: fomm seed 0 was trained on {before.label} but ")
    assert f"is now {after.label}" in line and "--allow-mixed-builds" in line

    # another method on the new build; the references are scored again on it
    _ok("train", *where, "--methods", "mraa", "--steps", "1", *RUN)
    _ok("eval", *where, "--methods", "mraa", *RUN)
    assert _recorded(out / "references" / "copy-source" / "eval" / "summary.json") == after
    both = (*where, "--methods", "fomm,mraa")
    mixed = _bench("table", *both)
    assert mixed.exit_code == 2, mixed.output
    [line] = _errors(mixed)
    assert line.startswith("error: the evaluations come from 2 different builds: ")
    assert f"{before.label}: fomm seed 0;" in line
    assert f"{after.label}: mraa seed 0, copy-source, copy-driving;" in line

    tabled = _ok("table", *both, "--allow-mixed-builds")
    md = (out / "tables" / "leaderboard.md").read_text()
    assert "**Mixed builds**" in md and "**Mixed builds**" in tabled.output
    assert f"({before.label}): fomm seed 0" in md
    assert f"({after.label}): mraa seed 0, copy-source, copy-driving" in md
    tex = (out / "tables" / "leaderboard.tex").read_text()
    assert r"\emph{Mixed builds" in tex and before.label in tex and after.label in tex
    # no grid video: its source and driving columns would come from the refiltered build
    assert not list(grids.glob("*.mp4"))
