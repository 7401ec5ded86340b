"""Training checkpoints: model, optimisers, LR schedules, AMP scaler and every process's RNG
state, written atomically (temporary name, fsync, rename), so a run killed at any moment
resumes from the last complete checkpoint and continues bit for bit (deterministic mode).

Loading never runs code from the file: a checkpoint holds only tensors and plain values
(dicts, lists, tuples, str, int, float, bool, None), read with `torch.load(weights_only=True)`.
Each checkpoint has a sha256 sidecar (`final.pt.sha256`, `sha256sum` format) written after it;
`load` refuses a file whose sidecar is missing or names another digest. Checkpoints written
before the sidecars existed (format 1) are refused with the command that re-saves them:
`python -m talkingub.bench.checkpoint reseal PATH` (it reads them with the same safe loader).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import pickle
import random
import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from talkingub.errors import ConfigError
from talkingub.io.atomic import TMP_MARK, atomic_path, atomic_write_text, sha256_file

# 2: numpy RNG state as plain values (loads with weights_only=True), sha256 sidecar
CHECKPOINT_VERSION = 2
HASH_SUFFIX = ".sha256"
CHECKPOINT_NAMES = ("last.pt", "final.pt")
_DIGEST = re.compile(r"[0-9a-f]{64}")
# what `atomic_path` names the temporaries of a checkpoint or its sidecar
_TEMP = re.compile(
    re.escape(TMP_MARK)
    + r"[0-9a-f]{8}-(?:"
    + "|".join(re.escape(n) for n in CHECKPOINT_NAMES)
    + r")(?:"
    + re.escape(HASH_SUFFIX)
    + r")?"
)


class CheckpointError(ConfigError):
    """A checkpoint is missing, changed since it was written, unverifiable or not plain data."""


def rng_state(device: torch.device) -> dict[str, Any]:
    """This process's RNG states as tensors and plain values (safe to load)."""
    legacy = np.random.get_state(legacy=True)
    assert isinstance(legacy, tuple)  # legacy=True: the MT19937 tuple
    name, keys, pos, has_gauss, cached_gaussian = legacy
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "bit_generator": str(name),
            "keys": [int(k) for k in keys],
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "python": random.getstate(),  # (int, tuple of ints, None | float)
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"].cpu())  # `load` maps tensors to the device
    numpy = state["numpy"]
    np.random.set_state(
        (
            numpy["bit_generator"],
            np.asarray(numpy["keys"], dtype=np.uint32),
            int(numpy["pos"]),
            int(numpy["has_gauss"]),
            float(numpy["cached_gaussian"]),
        )
    )
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"].cpu(), device)


def hash_path(path: Path) -> Path:
    """The sha256 sidecar of a checkpoint: `final.pt` -> `final.pt.sha256`."""
    return path.with_name(path.name + HASH_SUFFIX)


def save(path: Path, state: dict[str, Any]) -> Path:
    """Write `state` atomically, then its sha256 sidecar.

    Between the two renames the sidecar names the new digest and the one it named before, so
    a run killed there finds whichever file is in place accepted; otherwise it names one."""
    path = Path(path)
    previous = _current_digests(path)
    with atomic_path(path) as tmp:
        torch.save({"version": CHECKPOINT_VERSION, **state}, tmp)
        digest = sha256_file(tmp)
        _write_digests(path, [digest, *(d for d in previous if d != digest)])
    _write_digests(path, [digest])
    return path


def _write_digests(path: Path, digests: Sequence[str]) -> None:
    atomic_write_text(hash_path(path), "".join(f"{d}  {path.name}\n" for d in digests))


def _recorded_digests(path: Path) -> list[str] | None:
    """The digests the sidecar of `path` lists; None when there is no sidecar."""
    sidecar = hash_path(path)
    try:
        text = sidecar.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    fields = (line.split() for line in text.splitlines())
    return [f[0].lower() for f in fields if f and _DIGEST.fullmatch(f[0].lower())]


def _current_digests(path: Path) -> list[str]:
    """The digest of the checkpoint now at `path`, from its sidecar (hashed only when a killed
    save left two candidates)."""
    recorded = _recorded_digests(path) or []
    if len(recorded) > 1 and path.is_file():
        actual = sha256_file(path)
        return [actual] if actual in recorded else []
    return recorded


def verify(path: Path) -> str:
    """The sha256 of `path` when its sidecar lists it; else CheckpointError (one line)."""
    path = Path(path)
    with open(path, "rb") as handle:
        return _verify(path, handle)


def _verify(path: Path, handle: io.BufferedReader) -> str:
    recorded = _recorded_digests(path)
    if recorded is None:
        raise CheckpointError(
            f"checkpoint {path}: no {hash_path(path).name} beside it (written before "
            "checkpoints carried a sha256, or copied without it); if you trust the file, "
            f"re-save it with `python -m talkingub.bench.checkpoint reseal {path}`"
        )
    if not recorded:
        raise CheckpointError(f"checkpoint {path}: {hash_path(path).name} holds no sha256")
    actual = hashlib.file_digest(handle, "sha256").hexdigest()
    if actual not in recorded:
        raise CheckpointError(
            f"checkpoint {path}: sha256 mismatch (file changed since it was written); "
            "restore it or train again"
        )
    return actual


def load(path: Path, device: torch.device) -> dict[str, Any]:
    """A checkpoint written by `save`: sha256 checked, then read with the safe loader, both
    from one open file (a file swapped in between is not read)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    with open(path, "rb") as handle:
        _verify(path, handle)
        handle.seek(0)
        state = _safe_load(path, handle, device)
    version = state.get("version")
    if version != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"checkpoint {path}: unsupported checkpoint version {version!r}"
            + (
                f"; re-save it with `python -m talkingub.bench.checkpoint reseal {path}`"
                if version == 1
                else ""
            )
        )
    return state


def _safe_load(
    path: Path,
    source: io.BufferedReader | Path,
    device: torch.device | str,
    allow: Sequence[Any] = (),
) -> dict[str, Any]:
    """`torch.load(weights_only=True)` of `source` (`path` or its open file): tensors and plain
    values only, nothing in the file runs; `allow` adds globals (reseal: format 1's numpy
    arrays)."""
    try:
        with warnings.catch_warnings(), torch.serialization.safe_globals(list(allow)):
            # a plain pickle (not torch.save's zip) draws a protocol warning: the error says it
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            state = torch.load(source, map_location=device, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"checkpoint {path}: refused by the safe loader, not plain tensor data "
            f"({_unpickler_detail(exc)}); nothing in it was run"
        ) from None
    except Exception as exc:  # a damaged archive: zip, storage or pickle structure
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise CheckpointError(
            f"checkpoint {path}: not a readable checkpoint ({type(exc).__name__}: {first})"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path}: holds a {type(state).__name__}, not a dict")
    return state


def _unpickler_detail(exc: BaseException) -> str:
    """What torch's weights-only unpickler refused, without its advice to load unsafely."""
    lines = str(exc).splitlines()[1:]
    kept = [
        line.split("WeightsUnpickler error:")[-1].strip()
        for line in lines
        if line.strip() and not line.startswith("Check the documentation")
    ]
    detail = "; ".join(k for k in kept if k)
    return detail[:300] or type(exc).__name__


def load_model_weights(
    path: Path, device: torch.device | str = "cpu"
) -> tuple[Any, dict[str, Any]]:
    """(model, checkpoint) from a `final.pt` or `last.pt` written by the bench trainer."""
    from talkingub.models.registry import create_model

    state = load(Path(path), torch.device(device))
    # the resolved config (e.g. with --without-pretrained-losses) where the file records it
    model = create_model(state["method"], state.get("model_config") or state["variant"])
    model.load_state_dict(state["model"])
    return model.to(device).eval(), state


def remove_stale_temps(run_dir: Path) -> list[Path]:
    """Delete the temporaries of checkpoints and their sidecars that a killed save left in
    `run_dir` (the folder itself and its `checkpoints/`). Only regular files named the way
    `save` names them; symbolic links are never followed nor removed."""
    removed: list[Path] = []
    try:
        run_fd = os.open(run_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return removed  # no run folder yet, or a symlink / not a folder: not ours to clean
    try:
        removed += _remove_temps_in(run_fd, Path(run_dir))
        try:
            fd = os.open("checkpoints", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=run_fd)
        except OSError:
            return removed
        try:
            removed += _remove_temps_in(fd, Path(run_dir) / "checkpoints")
        finally:
            os.close(fd)
    finally:
        os.close(run_fd)
    return removed


def _remove_temps_in(folder_fd: int, folder: Path) -> list[Path]:
    removed = []
    with os.scandir(folder_fd) as entries:
        names = [
            e.name for e in entries if _TEMP.fullmatch(e.name) and e.is_file(follow_symlinks=False)
        ]
    for name in names:
        try:
            os.unlink(name, dir_fd=folder_fd)
        except FileNotFoundError:
            continue
        removed.append(folder / name)
    return removed


def _legacy_numpy_globals() -> list[Any]:
    """What format 1's numpy RNG state (a uint32 array) needs the safe loader to allow."""
    reconstruct = np.arange(1).__reduce__()[0]
    aliases = ("numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct")
    return [
        reconstruct,
        *((reconstruct, a) for a in aliases),
        np.ndarray,
        np.dtype,
        type(np.dtype(np.uint32)),
    ]


def _plain_rng(rng: dict[str, Any]) -> dict[str, Any]:
    """Format 1's RNG state of one process in the current (plain) form."""
    numpy = rng.get("numpy")
    if isinstance(numpy, tuple):
        name, keys, pos, has_gauss, cached_gaussian = numpy
        rng = {
            **rng,
            "numpy": {
                "bit_generator": str(name),
                "keys": [int(k) for k in np.asarray(keys).ravel()],
                "pos": int(pos),
                "has_gauss": int(has_gauss),
                "cached_gaussian": float(cached_gaussian),
            },
        }
    return rng


def reseal(path: Path) -> Path:
    """Re-save a checkpoint in the current format with its sha256 sidecar, after reading it
    with the safe loader (format 1's numpy arrays allowed, nothing else): for checkpoints
    written before the sidecars, or one you trust after it was changed on purpose."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    state = _safe_load(path, path, "cpu", allow=_legacy_numpy_globals())
    if state.get("version") not in (1, CHECKPOINT_VERSION) or "model" not in state:
        raise CheckpointError(f"checkpoint {path}: not a talkingub bench checkpoint")
    if "rng" in state:
        state["rng"] = [_plain_rng(r) for r in state["rng"]]
    return save(path, {k: v for k, v in state.items() if k != "version"})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m talkingub.bench.checkpoint",
        description="Re-save bench checkpoints (final.pt, last.pt) with a sha256 sidecar.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("reseal", help="re-save trusted checkpoints, write .sha256")
    command.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.paths:
        try:
            reseal(path)
        except CheckpointError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code
        print(f"resealed {path} -> {hash_path(path).name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
