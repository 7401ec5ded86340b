"""The generic training loop every method goes through.

Each step is the bench's one optimisation step (`talkingub.bench.step`: the model's optimiser
groups in order under autocast, NaN/inf check, scaled backward, gradient averaging across
torchrun processes, the model's `clip_gradients` and the protocol's global norm clip, the
optimiser steps, then the LR schedulers: the protocol's `lr_schedule`, milestones from the
model config or warm-up + cosine/constant, `talkingub.bench.optim`). Checkpoints every
`checkpoint_every` steps carry everything needed for an exact resume. Logs: long-format CSV
(`train_log.csv`: step, name, value, seconds), TensorBoard event files (`events/`), a rich
progress bar with it/s and ETA (`talkingub.bench.train_log`). What a run may do with a folder
an earlier run left: `talkingub.bench.run_folder`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from talkingub.bench import checkpoint as ckpt
from talkingub.bench import distributed as D
from talkingub.bench.build_ref import BuildRef
from talkingub.bench.data import BuildIndex, ClipStore, PairDataset, PairSpec, face_size_of
from talkingub.bench.few_shot import ref_frames_of
from talkingub.bench.holdout import training_holdout
from talkingub.bench.optim import batch_size_of
from talkingub.bench.precision import channels_last_enabled, to_channels_last
from talkingub.bench.pretrained import dropped_terms, model_config, require_weights
from talkingub.bench.protocol import Protocol
from talkingub.bench.run_folder import (
    PREVIOUS_PREFIX,
    RUN_OUTPUTS,
    RunExistsError,
    check_resume_flags,
    checkpoints_in,
    earlier_builds,
    refuse_silent_restart,
    set_aside_previous_run,
)
from talkingub.bench.step import (
    NonFiniteLossError,
    StepParts,
    TrainStep,
    make_step,
    run_step,
    to_device,
)
from talkingub.bench.train_log import TrainLogger, progress_bar
from talkingub.config import to_dict
from talkingub.io.atomic import atomic_write_text
from talkingub.models.base import GENERATOR

__all__ = [
    "PREVIOUS_PREFIX",
    "RUN_OUTPUTS",
    "NonFiniteLossError",
    "RunExistsError",
    "TrainJob",
    "TrainResult",
    "TrainStep",
    "check_resume_flags",
    "checkpoints_in",
    "harness_step",
    "make_step",
    "refuse_silent_restart",
    "set_aside_previous_run",
    "train",
]


@dataclasses.dataclass(frozen=True)
class TrainJob:
    method: str
    build_dir: Path
    run_dir: Path
    protocol: Protocol
    seed: int = 0
    device: str = "auto"
    resume: bool = False
    progress: bool = True
    restart: bool = False  # a folder with a checkpoint: move the old run aside, start over
    allow_mixed_builds: bool = False  # resume a run begun on another build
    # the person-specific track (talkingub.bench.person_specific): the (clip, frames) this
    # person's model trains on, in windows of consecutive frames; None: pairs of every clip
    frames: tuple[tuple[str, tuple[int, ...]], ...] | None = None

    def __post_init__(self) -> None:
        check_resume_flags(self.resume, self.restart)
        D.check_device(self.device)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    method: str
    final: Path
    steps: int
    steps_per_s: float
    peak_memory_mb: float
    device: str
    last_losses: dict[str, float]
    previous: Path | None = None  # where `restart` moved the earlier run


@dataclasses.dataclass
class _Context(StepParts):
    """The step's parts plus what the loop around it needs."""

    job: TrainJob
    batch_size: int
    loader_dataset: Any = None
    build_ref: BuildRef | None = None  # the build trained on: run.json and the checkpoints


def train(job: TrainJob) -> TrainResult:
    require_weights([job.method], job.protocol)
    with D.session(job.device) as info, D.main_lock(job.run_dir, info, "trained"):
        return _train(job, info)


def _train(job: TrainJob, info: D.DistInfo) -> TrainResult:
    refuse_silent_restart(job)  # before anything is written
    build = BuildRef.from_build(job.build_dir)
    earlier = earlier_builds(job, build)  # a resume on another build: refused unless allowed
    previous = None
    if info.main:  # temporaries of a save that was killed are never reused
        ckpt.remove_stale_temps(job.run_dir)
        if job.restart:
            previous = set_aside_previous_run(job.run_dir)
    ctx = _setup(job, info, build, earlier)
    done = _resume(ctx) if job.resume else 0
    if not job.resume:
        torch.manual_seed(job.seed * 1000 + info.rank)
    loader = _loader(ctx, done)
    _prime_lazy_modules(ctx)
    schedule = job.protocol.schedule
    steps = schedule.steps
    logger = TrainLogger(job.run_dir, info.main, done if job.resume else 0, schedule.log_every)
    title = f"[bold]{job.method}[/] seed {job.seed}" if job.progress and info.main else None
    start, losses = time.perf_counter(), {}
    with logger, progress_bar(title, steps, done) as advance:
        for step, batch in zip(range(done, steps), loader):
            losses = _train_step(ctx, to_device(batch, ctx), step)
            logger.log(step + 1, losses, ctx.optimizers)
            advance(losses)
            if (step + 1) % schedule.checkpoint_every == 0 or step + 1 == steps:
                _save_checkpoint(ctx, step + 1)
    elapsed = max(time.perf_counter() - start, 1e-9)
    result = _finish(ctx, steps, (steps - done) / elapsed, losses)
    return dataclasses.replace(result, previous=previous)


@contextlib.contextmanager
def harness_step(job: TrainJob) -> Iterator[tuple[Any, TrainStep]]:
    """(model, step) where `step(batch) -> losses` is exactly the optimisation step `train`
    runs (autocast, scaler, channels-last, clipping, schedulers), without the data loader,
    logs or checkpoints: what the throughput benchmark times. `make_step` gives the same step
    for a model built elsewhere (the model tests)."""
    with D.session(job.device) as info:
        ctx = _setup(job, info)
        yield ctx.model, TrainStep(ctx)


def _setup(
    job: TrainJob,
    info: D.DistInfo,
    build: BuildRef | None = None,
    earlier: list[BuildRef] | None = None,
) -> _Context:
    from talkingub.models.registry import create_model

    schedule = job.protocol.schedule
    if schedule.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.set_num_threads(1)
    device = D.device_for(job.device, info)
    torch.manual_seed(job.seed)  # identical initial weights on every process
    config = model_config(job.method, job.protocol)
    model = create_model(job.method, config).to(device).train()
    if channels_last_enabled(schedule, device):
        to_channels_last(model)
    D.broadcast_parameters(model, info)
    ctx = _Context.build(
        model,
        schedule,
        device,
        info,
        label=job.method,
        checkpoint=job.run_dir / "checkpoints" / "last.pt",
        job=job,
        build_ref=build,
        batch_size=batch_size_of(model.config, schedule.batch_size),
    )
    if info.main:
        _write_run_config(job, model.config, info.world, build, earlier or [])
    return ctx


def _write_run_config(
    job: TrainJob, config: Any, world: int, build: BuildRef | None, earlier: list[BuildRef]
) -> None:
    """`run.json`: what this run trains with, including any loss terms left out, and the
    build (`earlier_builds`: those a resumed run was trained on before, when allowed)."""
    payload = {
        "method": job.method,
        "seed": job.seed,
        "variant": job.protocol.variant,
        "world": world,
        "without_pretrained_losses": job.protocol.without_pretrained_losses,
        "dropped_loss_terms": dropped_terms(job.method, job.protocol),
        "model_config": to_dict(config),
        "protocol": to_dict(job.protocol),
        "build": build.to_dict() if build else None,
        "earlier_builds": [b.to_dict() for b in earlier],
    }
    atomic_write_text(job.run_dir / "run.json", json.dumps(payload, indent=2) + "\n")


def _loader(ctx: _Context, done: int) -> Iterator[dict[str, torch.Tensor]]:
    job, batch, world = ctx.job, ctx.batch_size, ctx.info.world
    store = ClipStore(BuildIndex(job.build_dir))
    spec = PairSpec(
        image_size=int(ctx.model.config.image_size),
        face_size=face_size_of(ctx.model.config),
        augment=job.protocol.augment_for(job.method),
        seed=job.seed,
        ref_frames=ref_frames_of(ctx.model.config),  # few-shot models: N subject frames
    )
    steps = job.protocol.schedule.steps
    holdout = training_holdout(job.protocol.evaluation.lists)  # far pairs: never trained on
    if job.frames is None:
        dataset: Any = PairDataset(store, spec, length=steps * batch * world, holdout=holdout)
    else:  # one person's windows (talkingub.bench.person_data)
        from talkingub.bench.person_data import PersonWindows

        window = int(getattr(ctx.model.config, "temporal_window", 1)) + 1
        dataset = PersonWindows(store, spec, steps * batch * world, job.frames, window)
    ctx.loader_dataset = dataset
    first = ctx.info.rank * batch
    batches = [[s * batch * world + first + b for b in range(batch)] for s in range(done, steps)]
    return iter(
        torch.utils.data.DataLoader(
            dataset,
            batch_sampler=batches,
            num_workers=job.protocol.schedule.num_workers,
            # its own generator: creating the iterator must not draw from the global RNG,
            # or a resumed run's model randomness would shift by one draw
            generator=torch.Generator().manual_seed(job.seed),
        )
    )


def _prime_lazy_modules(ctx: _Context) -> None:
    """Build lazily created loss networks (e.g. the random-init VGG of the tiny configs) now,
    from a fixed seed and without touching the global RNG or the weights: otherwise a resumed
    run would build them from another RNG state than the uninterrupted run did."""
    dataset = ctx.loader_dataset
    batch = torch.utils.data.default_collate([dataset[i] for i in range(min(2, len(dataset)))])
    devices = [ctx.device] if ctx.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        torch.manual_seed(ctx.job.seed + 7919)
        ctx.model.eval()
        try:
            ctx.model.losses(GENERATOR, to_device(batch, ctx))
        finally:
            ctx.model.train()


def _train_step(ctx: _Context, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
    """The loop's step: `talkingub.bench.step.run_step` (a seam tests wrap)."""
    return run_step(ctx, batch, step)


def _state(ctx: _Context, step: int) -> dict[str, Any]:
    return {
        "method": ctx.job.method,
        "variant": ctx.job.protocol.variant,
        "seed": ctx.job.seed,
        "step": step,
        "world": ctx.info.world,
        "model_config": to_dict(ctx.model.config),
        "model": ctx.model.state_dict(),
        "optimizers": {g: o.state_dict() for g, o in ctx.optimizers.items()},
        "schedulers": {g: s.state_dict() for g, s in ctx.schedulers.items()},
        "scaler": ctx.scaler.state_dict(),
        "protocol": to_dict(ctx.job.protocol),
        "build": ctx.build_ref.to_dict() if ctx.build_ref else None,
    }


def _save_checkpoint(ctx: _Context, step: int) -> None:
    rngs = D.gather_objects(ckpt.rng_state(ctx.device), ctx.info)
    if ctx.info.main:
        ckpt.save(ctx.job.run_dir / "checkpoints" / "last.pt", {**_state(ctx, step), "rng": rngs})
    D.barrier(ctx.info)


def _resume(ctx: _Context) -> int:
    path = ctx.job.run_dir / "checkpoints" / "last.pt"
    if not path.is_file():
        torch.manual_seed(ctx.job.seed * 1000 + ctx.info.rank)
        return 0
    state = ckpt.load(path, ctx.device)
    ctx.model.load_state_dict(state["model"])
    for group, opt in ctx.optimizers.items():
        opt.load_state_dict(state["optimizers"][group])
    for group, sched in ctx.schedulers.items():
        sched.load_state_dict(state["schedulers"][group])
    ctx.scaler.load_state_dict(state["scaler"])
    rngs = state["rng"]
    if len(rngs) == ctx.info.world:
        ckpt.set_rng_state(rngs[ctx.info.rank], ctx.device)
    else:  # another process count: the data order is still exact, model noise is reseeded
        torch.manual_seed(ctx.job.seed * 1000 + ctx.info.rank + int(state["step"]))
    return int(state["step"])


def _finish(ctx: _Context, steps: int, rate: float, losses: dict[str, float]) -> TrainResult:
    final = ctx.job.run_dir / "final.pt"
    if ctx.info.main:
        ckpt.save(final, {k: v for k, v in _state(ctx, steps).items() if k in _FINAL_KEYS})
    peak = _peak_memory_mb(ctx.device)
    result = TrainResult(ctx.job.method, final, steps, rate, peak, _device_name(ctx.device), losses)
    if ctx.info.main:
        payload = {**dataclasses.asdict(result), "final": str(final), "world": ctx.info.world}
        atomic_write_text(ctx.job.run_dir / "train.json", json.dumps(payload, indent=2) + "\n")
    D.barrier(ctx.info)
    return result


_FINAL_KEYS = ("method", "variant", "seed", "step", "model_config", "model", "protocol", "build")


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import platform

    return f"cpu ({platform.processor() or platform.machine()})"
