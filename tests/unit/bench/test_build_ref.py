"""Bench provenance (issue 18, item 4): `BuildRef` (path, config hash, manifest digest), its
JSON form, and the checks that keep runs of different builds apart (several runs, a
checkpoint evaluated on another build, a run resumed on another build)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from talkingub.bench.build_ref import (
    MANIFEST_TABLES,
    BuildRef,
    MixedBuildsError,
    RunBuild,
    check_one_build,
    check_resume,
    check_trained_on,
    group_builds,
)
from talkingub.bench.protocol import load_protocol
from talkingub.bench.run_folder import earlier_builds
from talkingub.bench.train import TrainJob
from talkingub.cli import describe
from talkingub.errors import ConfigError


def fake_build(root: Path, config_hash: str = "c0ffee000001", content: str = "v1") -> Path:
    """build.json, the four manifest tables (any bytes do) and SHA256SUMS as a build writes
    it (sorted, `sha256sum` format, other outputs listed too)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "build.json").write_text(json.dumps({"config_hash": config_hash, "schema": "x"}))
    for name in MANIFEST_TABLES:
        (root / f"{name}.parquet").write_text(f"{name} {content}")
    (root / "stats.json").write_text("{}")
    names = sorted(["build.json", "stats.json", *(f"{n}.parquet" for n in MANIFEST_TABLES)])
    sums = [f"{hashlib.sha256((root / n).read_bytes()).hexdigest()}  {n}" for n in names]
    (root / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    return root


def test_a_ref_names_the_build_and_a_re_read_gives_the_same_one(tmp_path: Path) -> None:
    build = fake_build(tmp_path / "build")
    ref = BuildRef.from_build(build)
    assert ref.path == str(build.resolve()) and ref.config_hash == "c0ffee000001"
    assert len(ref.manifest_digest) == 64
    assert ref.label == f"config c0ffee000001, manifests {ref.manifest_digest[:12]}"
    assert BuildRef.from_build(build) == ref  # reading changes nothing


def test_the_digest_is_the_hash_of_the_tables_lines_of_sha256sums(tmp_path: Path) -> None:
    build = fake_build(tmp_path / "build")
    tables = {f"{n}.parquet" for n in MANIFEST_TABLES}
    lines = [x for x in (build / "SHA256SUMS").read_text().splitlines() if x[66:] in tables]
    expected = hashlib.sha256("".join(f"{x}\n" for x in lines).encode()).hexdigest()
    assert BuildRef.from_build(build).manifest_digest == expected


def test_rewritten_tables_or_another_config_make_another_build(tmp_path: Path) -> None:
    ref = BuildRef.from_build(fake_build(tmp_path / "a"))
    other_tables = BuildRef.from_build(fake_build(tmp_path / "b", content="v2"))
    assert other_tables.config_hash == ref.config_hash
    assert other_tables.manifest_digest != ref.manifest_digest
    assert not other_tables.same_build(ref)
    other_config = BuildRef.from_build(fake_build(tmp_path / "c", config_hash="0ther0000002"))
    assert other_config.manifest_digest == ref.manifest_digest
    assert not other_config.same_build(ref)
    (tmp_path / "a" / "funnel.md").write_text("not a manifest")  # reports: not in the digest
    assert BuildRef.from_build(tmp_path / "a") == ref


def test_a_moved_build_is_the_same_build(tmp_path: Path) -> None:
    ref = BuildRef.from_build(fake_build(tmp_path / "here"))
    moved = BuildRef.from_build(shutil.copytree(tmp_path / "here", tmp_path / "there"))
    assert moved.path != ref.path and moved.same_build(ref) and moved.key == ref.key


def test_a_hand_made_build_without_build_json_or_tables_still_has_a_ref(tmp_path: Path) -> None:
    (tmp_path / "clips.parquet").write_text("clips")
    ref = BuildRef.from_build(tmp_path)
    assert ref.config_hash is None and ref.label.startswith("config ?, manifests ")
    assert ref != BuildRef.from_build(tmp_path / "elsewhere")


def test_json_round_trip_and_malformed_records(tmp_path: Path) -> None:
    ref = BuildRef.from_build(fake_build(tmp_path / "build"))
    data = json.loads(ref.to_json())
    assert data["digest_of"] == [f"{n}.parquet" for n in MANIFEST_TABLES]
    assert BuildRef.from_json(ref.to_json()) == ref
    assert BuildRef.from_dict({**ref.to_dict(), "config_hash": None}).config_hash is None
    for bad in ("[]", '{"path": "x"}', '{"path": "x", "manifest_digest": "d", "config_hash": 3}'):
        with pytest.raises(ConfigError, match=r"^run\.json: "):
            BuildRef.from_json(bad, "run.json")
    with pytest.raises(ConfigError, match="not JSON"):
        BuildRef.from_json("{", "run.json")


def _refs(tmp_path: Path) -> tuple[BuildRef, BuildRef]:
    one = BuildRef.from_build(fake_build(tmp_path / "one"))
    two = BuildRef.from_build(fake_build(tmp_path / "two", "feed00000002", "v2"))
    return one, two


def test_runs_of_one_build_pass_and_of_several_are_refused_by_name(tmp_path: Path) -> None:
    one, two = _refs(tmp_path)
    moved = BuildRef("/elsewhere", one.config_hash, one.manifest_digest)
    same = [RunBuild("fomm seed 0", one), RunBuild("copy-source", moved)]
    [group] = check_one_build(same)
    assert group.runs == ("fomm seed 0", "copy-source") and group.label == one.label
    runs = [*same, RunBuild("mraa seed 0", two)]
    with pytest.raises(MixedBuildsError) as caught:
        check_one_build(runs)
    message = str(caught.value)
    assert isinstance(caught.value, ConfigError) and "\n" not in message
    assert f"{one.label}: fomm seed 0, copy-source; {two.label}: mraa seed 0" in message
    assert "2 different builds" in message and "--allow-mixed-builds" in message
    assert [g.runs for g in caught.value.groups] == [
        ("fomm seed 0", "copy-source"),
        ("mraa seed 0",),
    ]
    code, line = describe(caught.value)
    assert code == 2 and line == message  # the CLI prints it as it is: one line, exit 2
    assert len(check_one_build(runs, allow=True)) == 2


def test_an_unknown_build_is_a_build_of_its_own_and_says_how_to_record_one(
    tmp_path: Path,
) -> None:
    one, _ = _refs(tmp_path)
    old = [RunBuild("fomm seed 0", None), RunBuild("fomm seed 1", None)]
    assert [g.label for g in check_one_build(old)] == ["unknown build"]
    with pytest.raises(MixedBuildsError, match=r"unknown build: fomm seed 0, fomm seed 1") as e:
        check_one_build([*old, RunBuild("mraa seed 0", one)])
    assert "re-run `talkingub bench eval`" in str(e.value)
    assert "older talkingub" in str(e.value)


def test_long_run_lists_are_cut_in_the_message(tmp_path: Path) -> None:
    one, two = _refs(tmp_path)
    runs = [RunBuild(f"fomm seed {s}", one) for s in range(9)] + [RunBuild("x seed 0", two)]
    with pytest.raises(MixedBuildsError, match=r"fomm seed 3 \(\+5 more\);"):
        check_one_build(runs)
    assert [len(g.runs) for g in group_builds(runs)] == [9, 1]


def test_a_checkpoint_of_another_build_is_not_evaluated_unless_allowed(tmp_path: Path) -> None:
    one, two = _refs(tmp_path)
    check_trained_on("fomm seed 0", one, one)
    check_trained_on("fomm seed 0", None, one)  # an older checkpoint records none
    with pytest.raises(MixedBuildsError) as caught:
        check_trained_on("fomm seed 0", one, two)
    message = str(caught.value)
    assert message.startswith(f"fomm seed 0 was trained on {one.label} but {two.path} is now")
    assert two.label in message and "--allow-mixed-builds" in message
    check_trained_on("fomm seed 0", one, two, allow=True)


def test_a_run_is_resumed_on_its_build_only(tmp_path: Path) -> None:
    one, two = _refs(tmp_path)
    assert check_resume("fomm seed 0", one, one) is None
    assert check_resume("fomm seed 0", None, one) is None
    with pytest.raises(MixedBuildsError, match="fomm seed 0 was begun on config c0ffee000001"):
        check_resume("fomm seed 0", one, two)
    assert check_resume("fomm seed 0", one, two, allow=True) == one


def test_earlier_builds_of_a_resumed_run_folder(tmp_path: Path) -> None:
    one, two = _refs(tmp_path)
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.pt").write_bytes(b"")
    (run / "run.json").write_text(json.dumps({"build": one.to_dict(), "earlier_builds": []}))
    protocol = load_protocol("tiny-cpu", methods=("fomm",))

    def job(**flags: bool) -> TrainJob:
        return TrainJob("fomm", tmp_path / "two", run, protocol, device="cpu", **flags)

    assert earlier_builds(job(), two) == []  # not resumed: nothing to compare
    assert earlier_builds(job(resume=True), one) == []
    with pytest.raises(MixedBuildsError, match="begun on"):
        earlier_builds(job(resume=True), two)
    assert earlier_builds(job(resume=True, allow_mixed_builds=True), two) == [one]
    (run / "run.json").write_text(
        json.dumps({"build": two.to_dict(), "earlier_builds": [one.to_dict()]})
    )
    assert earlier_builds(job(resume=True), two) == [one]  # carried on
    (run / "run.json").write_text("{}")  # an older talkingub recorded no build
    assert earlier_builds(job(resume=True), two) == []
