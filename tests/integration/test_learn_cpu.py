"""benchmarks/learn_cpu.py, the CPU learning proof, for a few steps on a small real build: it
trains and scores FOMM and PTUS, their step-0 weights and both references on the far-pairs
list, and writes its JSON (schema checked here) and loss-curve figure."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.integration.conftest import peer_build
from tests.support.recipes import MECHANICS

pytestmark = [pytest.mark.slow, pytest.mark.peers]


@pytest.fixture(scope="module")
def presenter_build(
    tmp_path_factory: pytest.TempPathFactory, presenter_chest_up_mp4: Path, swalwell_mp4: Path
) -> Path:
    """The chest-up presenter (6.1 s, train: its last 3 s are the far-pairs tail) and
    Swalwell (test)."""
    rows = [("presenter", presenter_chest_up_mp4, "train"), ("swalwell", swalwell_mp4, "test")]
    return peer_build(tmp_path_factory.mktemp("learn-build"), rows, MECHANICS, workers=1)


def test_learn_cpu_runs_a_few_steps_and_writes_its_results(
    presenter_build: Path, tmp_path: Path
) -> None:
    from benchmarks.learn_cpu import RESULT_KEYS, main

    results = tmp_path / "results"
    args = ["--steps", "5", "--methods", "fomm,ptus", "--build", str(presenter_build)]
    path = main([*args, "--work", str(tmp_path / "work"), "--results", str(results)])
    payload = json.loads(path.read_text())
    assert set(RESULT_KEYS) <= set(payload)
    assert payload["steps"] == 5 and payload["size"] == 128
    assert payload["build"]["videos"] == {"presenter": "train", "swalwell": "test"}
    assert payload["build"]["far_pairs"] > 0
    assert payload["references"]["copy-driving"]["l1"] == 0.0
    copy = payload["references"]["copy-source"]
    assert 0 < copy["l1"] < 0.2 and math.isfinite(copy["psnr"])
    assert set(payload["methods"]) == {"fomm", "ptus"}
    for method, row in payload["methods"].items():
        assert row["steps"] == 5, method
        for stage in ("step0", "trained"):
            assert set(row[stage]) == {"l1", "psnr"}, (method, stage)
            assert all(math.isfinite(v) for v in row[stage].values()), (method, stage)
        assert row["beats_copy_source"] == (row["trained"]["l1"] < copy["l1"])
        assert math.isfinite(row["last_losses"]["generator/total"])
    assert (results / payload["figure"]).stat().st_size > 10_000  # a real PNG of both curves
