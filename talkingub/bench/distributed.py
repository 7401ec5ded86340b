"""torchrun integration: the same entry point runs as one process or as a DDP job.

`torchrun` (or `python -m torch.distributed.run`) sets RANK / WORLD_SIZE / LOCAL_RANK;
`init()` then joins the process group (NCCL on CUDA, gloo on CPU). Models here train through
`generator_losses` / `discriminator_losses` rather than `forward`, so instead of the
`DistributedDataParallel` wrapper (which hooks `forward`) gradients are averaged with one
coalesced all-reduce per optimiser group after backward: the same arithmetic as DDP.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import datetime
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from talkingub.errors import ConfigError
from talkingub.io.lock import folder_lock


@dataclasses.dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


def init(device: str) -> DistInfo:
    """Join the torchrun process group when launched by torchrun; else one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        dist.init_process_group(backend=backend, timeout=collective_timeout())
        atexit.register(shutdown)
    return DistInfo(rank, world, local)


def collective_timeout() -> datetime.timedelta | None:
    """`TALKINGUB_DIST_TIMEOUT` seconds for the rendezvous and every collective (a stuck
    peer then raises instead of hanging); unset: torch's default."""
    value = os.environ.get("TALKINGUB_DIST_TIMEOUT")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(f"TALKINGUB_DIST_TIMEOUT must be seconds, got {value!r}") from None
    return datetime.timedelta(seconds=seconds)


DEVICE_CHOICES = "auto, cpu, cuda, cuda:N or mps"
_CUDA_INDEX = re.compile(r"cuda:(\d+)")


def check_device(device: str) -> str:
    """`device` when this machine can run on it, else ConfigError (one line, naming the way
    out). Cheap: asks torch whether the backend is there, moves no memory; the bench calls it
    before reading any data."""
    if device in ("auto", "cpu"):
        return device
    if device == "cuda" or _CUDA_INDEX.fullmatch(device):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if not count:
            raise ConfigError(
                f"--device {device}: CUDA is not available here ({_why_no_cuda()}); "
                "use --device cpu"
            )
        match = _CUDA_INDEX.fullmatch(device)
        if match and int(match.group(1)) >= count:
            visible = "cuda:0" if count == 1 else f"cuda:0 to cuda:{count - 1}"
            raise ConfigError(f"--device {device}: no such GPU ({count} visible here: {visible})")
        return device
    if device == "mps":
        if not torch.backends.mps.is_available():
            raise ConfigError(
                f"--device mps: MPS is not available here (torch {torch.__version__} on this "
                "machine has no Apple GPU backend); use --device cpu"
            )
        return device
    raise ConfigError(f"--device {device}: unknown device (choose {DEVICE_CHOICES})")


def _why_no_cuda() -> str:
    if torch.version.cuda is None:
        return f"torch {torch.__version__} built without CUDA"
    return f"torch {torch.__version__} built with CUDA {torch.version.cuda}, but no GPU visible"


def device_for(device: str, info: DistInfo) -> torch.device:
    """`cuda` becomes `cuda:LOCAL_RANK` under torchrun; `auto` picks CUDA when present."""
    check_device(device)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and info.active:
        return torch.device("cuda", info.local_rank)
    return torch.device(device)


def broadcast_parameters(module: torch.nn.Module, info: DistInfo) -> None:
    if info.active:
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)


def average_gradients(params: list[torch.nn.Parameter], info: DistInfo) -> None:
    if not info.active or not params:
        return
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= info.world
    offset = 0
    for p, g in zip(params, grads):
        n = g.numel()
        p.grad = flat[offset : offset + n].view_as(p).clone()
        offset += n


def any_flag(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True on every rank when it is True on any rank."""
    if not info.active:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def gather_objects(obj: Any, info: DistInfo) -> list[Any]:
    if not info.active:
        return [obj]
    out: list[Any] = [None] * info.world
    dist.all_gather_object(out, obj)
    return out


@contextlib.contextmanager
def session(device: str) -> Iterator[DistInfo]:
    """Join the process group, or reuse it: a process joins once and leaves at exit.

    Leaving and re-joining within one process (e.g. `bench eval`: the lists, then each
    method) races on the torchrun rendezvous store, whose keys a new group reuses: a rank
    can read its peer's address from the group just destroyed and fail with gloo's
    `connectFullMesh ... Connection refused` (seen on this project's 2-core machine)."""
    yield init(device)


@contextlib.contextmanager
def main_lock(folder: Path, info: DistInfo, action: str) -> Iterator[None]:
    """Hold `folder`'s lock (talkingub.io.lock) in the main process for the block: a second
    run writing the same folder fails at once, naming the holder. Only rank 0 locks (the
    ranks of one run share the folder); when it fails, torchrun stops the other ranks."""
    if not info.main:
        yield
        return
    with folder_lock(folder, action=action, hint="wait for it, or write to another folder"):
        yield


def barrier(info: DistInfo) -> None:
    if info.active:
        dist.barrier()


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
