"""The person-specific track end to end on a real peer build (issue 19): `talkingub bench run
--protocol tiny-cpu --methods liu-ubkp` trains one model per person the lists need (each test
identity, each cross-identity source) on that person's own frames, none of them a scored
frame or within `gap_s` of one, drives each item with its person's model and tables the rows
as "person-specific"."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
import pytest

from talkingub.bench.data import BuildIndex
from talkingub.bench.holdout import clip_fps
from talkingub.bench.lists import EvalLists
from talkingub.bench.person_data import persons_needed, used_frames
from talkingub.bench.protocol import load_protocol
from talkingub.cli import main

pytestmark = pytest.mark.slow

METHOD = "liu-ubkp"


@pytest.fixture(scope="module")
def build(tiny_build: Path) -> Path:
    return tiny_build  # read only: the bench writes into its own folder


@pytest.fixture(scope="module")
def out(build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("person-bench") / "out"
    args = ["bench", "run", str(build), "-o", str(out), "--protocol", "tiny-cpu"]
    args += ["--methods", METHOD, "--device", "cpu", "--no-progress"]
    main.main(args, prog_name="talkingub", standalone_mode=False)
    return out


def test_one_model_per_person_on_its_own_unscored_frames(build: Path, out: Path) -> None:
    lists = EvalLists.from_json((out / "eval_lists.json").read_text())
    index = BuildIndex(build)
    folder = out / METHOD / "seed-0"
    persons = json.loads((folder / "persons.json").read_text())
    assert persons["track"] == "person-specific"
    # every test identity, and the cross sources (tiny-cpu draws them from test and train)
    assert sorted(persons["persons"]) == persons_needed(lists)
    assert {"swalwell", "aoc-wide"} <= set(persons["persons"])
    gap = load_protocol("tiny-cpu").person_specific.gap_s
    used = used_frames(index, lists)
    for identity, entry in persons["persons"].items():
        assert (folder / entry["final"]).is_file() and entry["train_frames"] > 0
        assert (folder / entry["run"] / "train_log.csv").is_file()
        for clip_id, runs in entry["clips"].items():
            clip = index.clips[clip_id]
            assert clip.identity == identity  # its own footage only
            frames = [f for first, last in runs for f in range(first, last + 1)]
            scored = used.get(clip_id, set())
            if clip.split == "test":
                assert set(clip.sampled) <= scored
            far = gap * clip_fps(clip)
            assert all(abs(f - u) > far for f in frames for u in scored), (identity, clip_id)


def test_items_are_driven_by_their_person_and_labelled_person_specific(out: Path) -> None:
    summary = json.loads((out / METHOD / "seed-0" / "eval" / "summary.json").read_text())
    assert summary["track"] == "person-specific"
    assert summary["trained_on"] == summary["build"]
    rows = pd.read_parquet(out / METHOD / "seed-0" / "eval" / "per_video.parquet")
    assert {"same", "cross"} <= set(rows["task"])
    cross = rows[rows["task"] == "cross"]
    assert (cross["source_identity"] != cross["identity"]).all()
    videos = out / METHOD / "seed-0" / "eval" / "videos"
    assert any((videos / "same").glob("*.mp4")) and any((videos / "cross").glob("*.mp4"))

    label = f"{METHOD} (person-specific)"
    tables = out / "tables"
    assert f"| {label} |" in (tables / "leaderboard.md").read_text()
    assert f"{label} &" in (tables / "leaderboard.tex").read_text()
    page = (out / "report" / "leaderboard.html").read_text()
    assert f"<td>{html.escape(label)}</td>" in page
    csv = pd.read_csv(tables / "leaderboard.csv")
    assert set(csv.loc[csv["method"] == METHOD, "track"]) == {"person-specific"}


def test_a_second_run_refuses_to_overwrite_the_persons_models(build: Path, out: Path) -> None:
    from talkingub.bench.run_folder import RunExistsError

    args = ["--debug", "bench", "train", str(build), "-o", str(out), "--protocol", "tiny-cpu"]
    args += ["--methods", METHOD, "--device", "cpu", "--no-progress"]
    with pytest.raises(RunExistsError, match="persons"):
        main.main(args, prog_name="talkingub", standalone_mode=False)
