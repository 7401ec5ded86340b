"""Bench checkpoints: read with the safe loader only (a crafted pickle runs nothing), a sha256
sidecar checked on load, an exact resume of every method from what the safe loader reads,
format-1 checkpoints refused until resealed, and stale temporaries of a killed save removed
(only the bench's own, never through a symlink)."""

from __future__ import annotations

import hashlib
import os
import pickle
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from talkingub.bench import checkpoint as ckpt
from talkingub.bench import train as T
from talkingub.bench.distributed import DistInfo
from talkingub.bench.lists import EvalLists
from talkingub.bench.protocol import load_protocol
from talkingub.errors import ConfigError
from talkingub.io.atomic import sha256_file
from talkingub.models.registry import list_models

CPU = torch.device("cpu")


class _Payload:
    """Pickles as a call of `os.system`: what a crafted checkpoint would run when loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def _write_sidecar(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    ckpt.hash_path(path).write_text(f"{digest}  {path.name}\n")


def _crafted(path: Path, marker: Path, writer: str) -> None:
    payload = {"version": ckpt.CHECKPOINT_VERSION, "method": "fomm", "model": _Payload(marker)}
    if writer == "torch.save":
        torch.save(payload, path)
    else:  # a plain pickle, e.g. "pickle-2": protocol 2
        path.write_bytes(pickle.dumps(payload, protocol=int(writer.split("-")[1])))
    _write_sidecar(path)  # the hash check passes: the safe loader itself must refuse


def _one_line(message: str) -> None:
    assert "\n" not in message.strip() and "Traceback" not in message, message


# --- the safe loader refuses a crafted pickle -----------------------------------------------


@pytest.mark.parametrize("writer", ["torch.save", "pickle-2", "pickle-5"])
def test_a_crafted_pickle_as_final_pt_runs_nothing_and_fails_in_one_line(
    tmp_path: Path, writer: str
) -> None:
    marker = tmp_path / "MARKER"
    final = tmp_path / "run" / "final.pt"
    final.parent.mkdir()
    _crafted(final, marker, writer)
    with pytest.raises(ckpt.CheckpointError) as caught:
        ckpt.load_model_weights(final)
    assert not marker.exists(), "loading the checkpoint ran code from it"
    message = str(caught.value)
    _one_line(message)
    assert message.startswith(f"checkpoint {final}: refused by the safe loader")
    assert message.endswith("; nothing in it was run")
    if writer != "pickle-5":  # protocol 5 is refused at its first opcode, before the call
        assert "GLOBAL posix.system" in message or "GLOBAL nt.system" in message
    assert "weights_only" not in message  # not torch's advice to load it unsafely
    # the control: the payload is live, an unsafe load does run it
    with open(final, "rb") as handle:
        if writer == "torch.save":
            torch.load(handle, weights_only=False)
        else:
            pickle.load(handle)
    assert marker.exists()


def test_reseal_refuses_a_crafted_pickle_too(tmp_path: Path) -> None:
    marker, path = tmp_path / "MARKER", tmp_path / "last.pt"
    _crafted(path, marker, "torch.save")
    ckpt.hash_path(path).unlink()
    assert ckpt.main(["reseal", str(path)]) == ckpt.CheckpointError.exit_code
    assert not marker.exists() and not ckpt.hash_path(path).exists()


def test_bench_eval_cli_refuses_a_crafted_final_pt_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from talkingub.bench import runner
    from talkingub.cli import main

    # no build needed to reach the checkpoint: the evaluation lists are empty
    monkeypatch.setattr(runner, "eval_lists", lambda run: EvalLists((), (), {}))
    marker, build, out = tmp_path / "MARKER", tmp_path / "build", tmp_path / "bench"
    build.mkdir()
    final = out / "fomm" / "seed-0" / "final.pt"
    final.parent.mkdir(parents=True)
    _crafted(final, marker, "torch.save")
    args = ["bench", "eval", str(build), "-o", str(out), "--methods", "fomm", "--device", "cpu"]
    result = CliRunner().invoke(main, [*args, "--no-progress"])
    assert result.exit_code == ckpt.CheckpointError.exit_code != 0, result.output
    assert not marker.exists()
    _one_line(result.output)
    assert result.output.startswith(f"error: checkpoint {final}: refused by the safe loader")


# --- sha256 sidecar ------------------------------------------------------------------------


def _small_state() -> dict[str, Any]:
    return {"method": "fomm", "step": 3, "model": {"w": torch.arange(6.0)}, "rng": []}


def test_save_writes_a_sha256sum_sidecar_and_load_checks_it(tmp_path: Path) -> None:
    path = ckpt.save(tmp_path / "final.pt", _small_state())
    sidecar = tmp_path / "final.pt.sha256"
    assert sidecar.read_text() == f"{sha256_file(path)}  final.pt\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final.pt", "final.pt.sha256"]
    torch.load(path, weights_only=True)  # plain data: torch's own safe loader reads it
    assert torch.equal(ckpt.load(path, CPU)["model"]["w"], torch.arange(6.0))
    assert ckpt.verify(path) == sha256_file(path)


def test_a_changed_checkpoint_is_refused_with_one_line(tmp_path: Path) -> None:
    path = ckpt.save(tmp_path / "final.pt", _small_state())
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ckpt.CheckpointError) as caught:
        ckpt.load(path, CPU)
    message = str(caught.value)
    _one_line(message)
    assert message == (
        f"checkpoint {path}: sha256 mismatch (file changed since it was written); "
        "restore it or train again"
    )
    assert isinstance(caught.value, ConfigError)  # callers catching the old error still do


def test_a_checkpoint_without_sidecar_is_refused_and_reseal_makes_it_loadable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = ckpt.save(tmp_path / "final.pt", _small_state())
    ckpt.hash_path(path).unlink()
    with pytest.raises(ckpt.CheckpointError) as caught:
        ckpt.load(path, CPU)
    message = str(caught.value)
    _one_line(message)
    assert message.startswith(f"checkpoint {path}: no final.pt.sha256 beside it")
    assert f"python -m talkingub.bench.checkpoint reseal {path}" in message
    assert ckpt.main(["reseal", str(path)]) == 0
    assert "resealed" in capsys.readouterr().out
    assert ckpt.load(path, CPU)["step"] == 3


def test_an_empty_sidecar_and_a_missing_file_are_refused(tmp_path: Path) -> None:
    path = ckpt.save(tmp_path / "final.pt", _small_state())
    ckpt.hash_path(path).write_text("\n")
    with pytest.raises(ckpt.CheckpointError, match="holds no sha256"):
        ckpt.load(path, CPU)
    with pytest.raises(ckpt.CheckpointError, match="checkpoint not found"):
        ckpt.load(tmp_path / "nothing.pt", CPU)


def test_a_damaged_archive_with_matching_sidecar_fails_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "final.pt"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    _write_sidecar(path)
    with pytest.raises(ckpt.CheckpointError) as caught:
        ckpt.load(path, CPU)
    _one_line(str(caught.value))
    assert str(caught.value).startswith(f"checkpoint {path}: ")


def _fail_rename_of(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    real = os.replace

    def replace(src: Any, dst: Any) -> None:
        if Path(dst).name == name:
            raise KeyboardInterrupt("killed")
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def test_a_save_killed_before_its_rename_keeps_the_previous_checkpoint_loadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = ckpt.save(tmp_path / "last.pt", {**_small_state(), "step": 1})
    with monkeypatch.context() as patch:
        _fail_rename_of(patch, "last.pt")
        with pytest.raises(KeyboardInterrupt):
            ckpt.save(path, {**_small_state(), "step": 2})
    assert len(ckpt.hash_path(path).read_text().splitlines()) == 2  # old and new digest
    assert ckpt.load(path, CPU)["step"] == 1
    ckpt.save(path, {**_small_state(), "step": 3})
    assert len(ckpt.hash_path(path).read_text().splitlines()) == 1
    assert ckpt.load(path, CPU)["step"] == 3


def test_a_save_killed_between_checkpoint_and_sidecar_leaves_the_new_one_loadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = ckpt.save(tmp_path / "last.pt", {**_small_state(), "step": 1})
    real, calls = ckpt._write_digests, []

    def write(path: Path, digests: list[str]) -> None:
        calls.append(digests)
        if len(calls) == 2:  # the final one-digest sidecar, after the checkpoint's rename
            raise KeyboardInterrupt("killed")
        real(path, digests)

    monkeypatch.setattr(ckpt, "_write_digests", write)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save(path, {**_small_state(), "step": 2})
    monkeypatch.undo()
    assert ckpt.load(path, CPU)["step"] == 2
    ckpt.save(path, {**_small_state(), "step": 3})  # two candidates: the one on disk is kept
    assert ckpt.load(path, CPU)["step"] == 3
    assert len(ckpt.hash_path(path).read_text().splitlines()) == 1


# --- RNG state and resume ------------------------------------------------------------------


def _draws() -> tuple[list[float], list[float], list[float]]:
    return (
        torch.randn(5).tolist(),
        [*np.random.standard_normal(3).tolist(), *np.random.rand(2).tolist()],
        [random.gauss(0, 1), random.random(), random.gauss(0, 1)],
    )


def test_rng_state_is_plain_and_restores_every_generator_bit_exactly(tmp_path: Path) -> None:
    torch.manual_seed(1)
    np.random.seed(2)
    random.seed(3)
    np.random.standard_normal(1)  # one gaussian drawn: numpy and python cache the second
    random.gauss(0, 1)
    path = ckpt.save(tmp_path / "last.pt", {"rng": [ckpt.rng_state(CPU)]})
    expected = _draws()
    state = torch.load(path, weights_only=True)["rng"][0]  # torch's safe loader as is
    assert state["numpy"]["has_gauss"] == 1 and state["python"][2] is not None
    ckpt.set_rng_state(ckpt.load(path, CPU)["rng"][0], CPU)
    assert _draws() == expected


@pytest.fixture
def _restore_torch_globals() -> Iterator[None]:
    """`_setup` switches deterministic mode and one thread on for the process."""
    deterministic, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    yield
    torch.use_deterministic_algorithms(deterministic)
    torch.set_num_threads(threads)


def _context(method: str, run_dir: Path) -> T._Context:
    protocol = load_protocol("tiny-cpu", methods=(method,))
    job = T.TrainJob(method, run_dir / "build", run_dir, protocol, device="cpu", progress=False)
    return T._setup(job, DistInfo())


def _advance(ctx: T._Context) -> None:
    """One optimiser step of every group from random gradients: Adam moments, step counts,
    scheduler and RNG states that a fresh context does not have."""
    for group, optimizer in ctx.optimizers.items():
        for param in ctx.params[group]:
            param.grad = torch.randn_like(param)
        optimizer.step()
    for scheduler in ctx.schedulers.values():
        scheduler.step()


@pytest.mark.usefixtures("_restore_torch_globals")
@pytest.mark.parametrize("method", list_models())
def test_every_method_resumes_exactly_from_a_safely_loaded_checkpoint(
    tmp_path: Path, method: str
) -> None:
    saved = _context(method, tmp_path)
    _advance(saved)
    T._save_checkpoint(saved, 7)
    path = tmp_path / "checkpoints" / "last.pt"
    torch.load(path, weights_only=True)  # every value is one torch's safe loader accepts
    expected_rng = torch.get_rng_state()
    torch.manual_seed(12345)  # the resume must put the saved RNG state back

    resumed = _context(method, tmp_path)
    assert T._resume(resumed) == 7
    assert torch.equal(torch.get_rng_state(), expected_rng)
    want, got = saved.model.state_dict(), resumed.model.state_dict()
    assert want.keys() == got.keys()
    assert all(torch.equal(want[k], got[k]) for k in want), method
    for group in saved.optimizers:
        a, b = saved.optimizers[group].state_dict(), resumed.optimizers[group].state_dict()
        assert a["param_groups"] == b["param_groups"]
        for index, values in a["state"].items():
            for key, value in values.items():
                other = b["state"][index][key]
                assert torch.equal(value, other) if torch.is_tensor(value) else value == other
        assert saved.schedulers[group].state_dict() == resumed.schedulers[group].state_dict()
    assert saved.scaler.state_dict() == resumed.scaler.state_dict()


# --- format 1 (before the sidecars) --------------------------------------------------------


def test_a_format_1_last_pt_is_refused_then_resealed_with_its_numpy_rng(tmp_path: Path) -> None:
    np.random.seed(5)
    np.random.standard_normal(1)
    legacy_rng = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),  # format 1: the tuple with a uint32 array
        "python": random.getstate(),
    }
    expected = np.random.standard_normal(4).tolist()
    path = tmp_path / "last.pt"
    torch.save({"version": 1, **_small_state(), "rng": [legacy_rng]}, path)
    with pytest.raises(ckpt.CheckpointError, match="reseal"):
        ckpt.load(path, CPU)
    _write_sidecar(path)  # a hand-made sidecar does not make format 1 loadable
    with pytest.raises(ckpt.CheckpointError, match="safe loader"):
        ckpt.load(path, CPU)
    ckpt.reseal(path)
    state = ckpt.load(path, CPU)
    assert state["version"] == ckpt.CHECKPOINT_VERSION and state["step"] == 3
    ckpt.set_rng_state(state["rng"][0], CPU)
    assert np.random.standard_normal(4).tolist() == expected


def test_a_format_1_final_pt_with_a_sidecar_names_reseal(tmp_path: Path) -> None:
    path = tmp_path / "final.pt"
    torch.save({"version": 1, **_small_state()}, path)
    _write_sidecar(path)
    with pytest.raises(ckpt.CheckpointError, match="version 1; re-save it with"):
        ckpt.load(path, CPU)


# --- stale temporaries of a killed save ----------------------------------------------------


def _touch(path: Path, data: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_stale_checkpoint_temps_are_removed_and_nothing_else(tmp_path: Path) -> None:
    run = tmp_path / "run"
    stale = [
        _touch(run / "checkpoints" / ".tmp-0a1b2c3d-last.pt"),  # 0 bytes: a killed save
        _touch(run / "checkpoints" / ".tmp-0a1b2c3d-last.pt.sha256", b"x"),
        _touch(run / ".tmp-deadbeef-final.pt", b"half"),
        _touch(run / ".tmp-deadbeef-final.pt.sha256"),
    ]
    outside = _touch(tmp_path / "elsewhere" / ".tmp-0a1b2c3d-last.pt", b"keep")
    kept = [
        _touch(run / "checkpoints" / "last.pt", b"done"),
        _touch(run / ".tmp-0a1b2c3d-run.json"),  # another file's temporary
        _touch(run / ".tmp-xyz-last.pt"),  # not a name `atomic_path` makes
        _touch(run / ".tmp-0a1b2c3d-last.pt.bak"),
        _touch(run / "eval" / ".tmp-0a1b2c3d-final.pt"),  # not a checkpoint folder
        outside,
    ]
    (run / "checkpoints" / ".tmp-11111111-last.pt").mkdir()  # a folder, not a temporary
    link = run / "checkpoints" / ".tmp-22222222-last.pt"
    link.symlink_to(outside)  # a matching name that is a symlink: neither followed nor removed
    removed = ckpt.remove_stale_temps(run)
    assert sorted(removed) == sorted(stale)
    assert not any(p.exists() for p in stale)
    assert all(p.is_file() for p in kept) and outside.read_bytes() == b"keep"
    assert link.is_symlink() and (run / "checkpoints" / ".tmp-11111111-last.pt").is_dir()
    assert ckpt.remove_stale_temps(run) == []
    assert ckpt.remove_stale_temps(tmp_path / "missing") == []


def test_stale_temps_behind_symlinked_folders_are_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "shared"
    inside = _touch(target / ".tmp-0a1b2c3d-last.pt")
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoints").symlink_to(target, target_is_directory=True)
    assert ckpt.remove_stale_temps(run) == []
    linked_run = tmp_path / "linked-run"
    linked_run.symlink_to(target, target_is_directory=True)
    assert ckpt.remove_stale_temps(linked_run) == []
    assert inside.is_file()


def test_training_removes_stale_temps_before_anything_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = _touch(tmp_path / "run" / "checkpoints" / ".tmp-0a1b2c3d-last.pt")
    seen: list[bool] = []

    class Stop(Exception):
        pass

    def setup(job: T.TrainJob, info: DistInfo, *build: object) -> T._Context:
        seen.append(stale.exists())
        raise Stop

    monkeypatch.setattr(T, "_setup", setup)
    protocol = load_protocol("tiny-cpu", methods=("fomm",))
    job = T.TrainJob("fomm", tmp_path, tmp_path / "run", protocol, device="cpu", resume=True)
    with pytest.raises(Stop):
        T._train(job, DistInfo())
    assert seen == [False]
    _touch(stale)
    with pytest.raises(Stop):  # another process than rank 0 leaves the folder to it
        T._train(job, DistInfo(rank=1, world=2))
    assert stale.exists()
