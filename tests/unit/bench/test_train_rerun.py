"""Training again into a run folder that holds a checkpoint (issue 18): without --resume it is
refused with one line naming --resume and --restart; --restart moves the earlier run's own
files aside (nothing deleted, nothing of the user's touched) and trains from step 0; --resume
continues. A two-step CPU run of the `tiny` FOMM on a one-clip synthetic build."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from talkingub.bench import train as T
from talkingub.bench.protocol import Protocol, load_protocol, with_schedule
from talkingub.bench.runner import BenchRun, run_dir, train_all
from talkingub.cli import main
from tests.support.media import write_video


def _tiny_build(root: Path) -> Path:
    """One training clip of four random 64x64 frames, in the layout `talkingub build` writes."""
    (root / "shards").mkdir(parents=True)
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (64, 64, 3), dtype=np.uint8) for _ in range(4)]
    mp4 = write_video(root / "clip.mp4", frames).read_bytes()
    meta = {
        "video_id": "v0",
        "identity": "p0",
        "split": "train",
        "sampled_frames": [0, 1, 2, 3],
        "face_boxes": [[0.25, 0.1, 0.75, 0.6]] * 4,
    }
    with tarfile.open(root / "shards" / "shard-000000.tar", "w") as tar:
        for name, data in (("v0-c0.mp4", mp4), ("v0-c0.json", json.dumps(meta).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    clips = {"clip_id": ["v0-c0"], "status": ["kept"], "shard": ["shard-000000.tar"]}
    pd.DataFrame(clips).to_parquet(root / "clips.parquet")
    return root


@pytest.fixture(autouse=True)
def _restore_torch_globals() -> Iterator[None]:
    """Training switches deterministic mode and one thread on for the process."""
    deterministic, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    yield
    torch.use_deterministic_algorithms(deterministic)
    torch.set_num_threads(threads)


def _protocol(steps: int = 2) -> Protocol:
    protocol = load_protocol("tiny-cpu", methods=("fomm",))
    protocol = with_schedule(protocol, steps=steps, batch_size=1, checkpoint_every=1)
    return dataclasses.replace(protocol, without_pretrained_losses=True)


def _bench(tmp_path: Path, **flags: bool) -> BenchRun:
    build = tmp_path / "build"
    if not build.is_dir():
        _tiny_build(build)
    return BenchRun(build, tmp_path / "bench", _protocol(), device="cpu", progress=False, **flags)


def _stamps(run: Path) -> dict[Path, int]:
    """Modification times of the run's files (the lock file is taken and released)."""
    return {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file() and p.name != ".lock"}


def _refusal(run: Path) -> str:
    return (
        f"fomm seed 0: {run} already holds a checkpoint (checkpoints/last.pt and final.pt); "
        "pass --resume to continue from it or --restart to start over (the old run is moved "
        "aside, not deleted)"
    )


def test_a_second_train_without_resume_is_refused_and_touches_nothing(tmp_path: Path) -> None:
    [first] = train_all(_bench(tmp_path))
    run = run_dir(tmp_path / "bench", "fomm", 0)
    assert first.steps == 2 and first.final == run / "final.pt" and first.previous is None
    before = _stamps(run)
    with pytest.raises(T.RunExistsError) as caught:
        train_all(_bench(tmp_path))
    assert str(caught.value) == _refusal(run)
    with pytest.raises(T.RunExistsError):  # the job alone refuses too
        T.train(T.TrainJob("fomm", tmp_path / "build", run, _protocol(), device="cpu"))
    assert _stamps(run) == before


def test_restart_moves_the_earlier_run_aside_and_trains_from_step_0(tmp_path: Path) -> None:
    train_all(_bench(tmp_path))
    run = run_dir(tmp_path / "bench", "fomm", 0)
    (run / "eval").mkdir()
    (run / "eval" / "summary.json").write_text("{}")
    (run / "notes.txt").write_text("mine")  # not the program's: stays where it is
    old_final = (run / "final.pt").read_bytes()
    old_log = (run / "train_log.csv").read_text()
    [again] = train_all(_bench(tmp_path, restart=True))
    previous = again.previous
    assert previous is not None and previous.parent == run
    assert previous.name.startswith(T.PREVIOUS_PREFIX)
    assert (previous / "final.pt").read_bytes() == old_final
    assert (previous / "train_log.csv").read_text() == old_log
    assert (previous / "checkpoints" / "last.pt").is_file()
    assert (previous / "checkpoints" / "last.pt.sha256").is_file()
    assert (previous / "eval" / "summary.json").is_file() and not (run / "eval").exists()
    assert (run / "notes.txt").read_text() == "mine" and not (previous / "notes.txt").exists()
    assert again.steps == 2 and (run / "final.pt").is_file()
    log = pd.read_csv(run / "train_log.csv")
    assert sorted(set(log["step"])) == [1, 2]  # from step 0 again, not appended
    # --resume continues the new run: it is complete, so no step runs again
    [resumed] = train_all(_bench(tmp_path, resume=True))
    assert resumed.steps == 2 and resumed.previous is None
    assert sorted(set(pd.read_csv(run / "train_log.csv")["step"])) == [1, 2]


def test_the_cli_refuses_in_one_line_and_restarts_on_request(tmp_path: Path) -> None:
    _tiny_build(tmp_path / "build")
    protocol = tmp_path / "fomm-2.yaml"
    protocol.write_text(
        "variant: tiny\nmethods: [fomm]\nseeds: [0]\n"
        "schedule: {steps: 2, batch_size: 1, checkpoint_every: 1, amp: false}\n"
    )
    args = ["bench", "train", str(tmp_path / "build"), "-o", str(tmp_path / "bench")]
    args += ["--protocol", str(protocol), "--device", "cpu", "--no-progress"]
    args += ["--without-pretrained-losses"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    run = run_dir(tmp_path / "bench", "fomm", 0)
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 2, second.output
    assert second.output.strip().splitlines() == [f"error: {_refusal(run)}"]
    third = CliRunner().invoke(main, [*args, "--restart"])
    assert third.exit_code == 0, third.output
    [moved] = run.glob(f"{T.PREVIOUS_PREFIX}*")
    assert third.output.splitlines()[0] == f"fomm: the earlier run was moved to {moved}"
    assert (moved / "final.pt").is_file() and (run / "final.pt").is_file()


def test_restart_moves_a_symlinked_checkpoints_folder_as_a_link(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "last.pt").write_bytes(b"not ours to move")
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoints").symlink_to(elsewhere, target_is_directory=True)
    (run / "final.pt").write_bytes(b"old")
    previous = T.set_aside_previous_run(run)
    assert previous is not None
    assert (previous / "checkpoints").is_symlink() and (previous / "final.pt").is_file()
    assert (elsewhere / "last.pt").read_bytes() == b"not ours to move"
    assert not os.path.lexists(run / "checkpoints") and not (run / "final.pt").exists()
    assert T.set_aside_previous_run(run) is None  # nothing of a run left: nothing moves
