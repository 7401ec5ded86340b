"""The generic training loop every method goes through.

One step runs each optimiser group of the model in order (generator, discriminator, then
e.g. `avd`): its loss terms under autocast (CUDA), NaN/inf check (stops with the step, the
group and the offending terms), scaled backward, gradient averaging across torchrun
processes, the model's own clipping hook (`clip_gradients`, TPSMM) and the protocol's global
norm clip, then the optimiser step; LR milestones from the model config. Checkpoints every
`checkpoint_every` steps carry everything needed for an exact resume. Logs: long-format CSV
(`train_log.csv`: step, name, value, seconds), TensorBoard event files (`events/`, through
`talkingub.bench.events`), a rich progress bar with it/s and ETA.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import itertools
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from talkingub.bench import checkpoint as ckpt
from talkingub.bench import distributed as D
from talkingub.bench.data import BuildIndex, ClipStore, PairDataset, PairSpec, face_size_of
from talkingub.bench.events import open_writer
from talkingub.bench.optim import (
    batch_size_of,
    build_optimizers,
    build_schedulers,
    epoch_at,
    ordered_groups,
)
from talkingub.bench.precision import amp_enabled, channels_last_enabled, to_channels_last
from talkingub.bench.pretrained import dropped_terms, model_config, require_weights
from talkingub.bench.protocol import Protocol
from talkingub.config import to_dict
from talkingub.errors import ConfigError, TalkingubError
from talkingub.io.atomic import atomic_write_text


class NonFiniteLossError(TalkingubError):
    """A loss became NaN or infinite; training stops instead of writing garbage weights."""


class RunExistsError(ConfigError):
    """A run folder already holds a checkpoint and the job says neither `resume` (continue
    it) nor `restart` (start over): training from step 0 there would silently replace it."""


# What a training run writes in its folder: `restart` moves these aside, nothing else.
RUN_OUTPUTS = (
    "final.pt",
    "final.pt" + ckpt.HASH_SUFFIX,
    "checkpoints/last.pt",
    "checkpoints/last.pt" + ckpt.HASH_SUFFIX,
    "train.json",
    "train_log.csv",
    "run.json",
    "events",
    "eval",
)
PREVIOUS_PREFIX = "previous-"


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

    def __post_init__(self) -> None:
        check_resume_flags(self.resume, self.restart)
        D.check_device(self.device)


def check_resume_flags(resume: bool, restart: bool) -> None:
    if resume and restart:
        raise ConfigError(
            "--resume and --restart exclude each other: --resume continues from the last "
            "checkpoint, --restart starts over"
        )


def checkpoints_in(run_dir: Path) -> list[Path]:
    """The checkpoints a previous training run left in `run_dir` (last.pt, final.pt)."""
    found = [run_dir / "checkpoints" / "last.pt", run_dir / "final.pt"]
    return [p for p in found if p.is_file()]


def refuse_silent_restart(job: TrainJob) -> None:
    """RunExistsError when `job` would train from step 0 over a folder holding a checkpoint."""
    if job.resume or job.restart:
        return
    found = checkpoints_in(job.run_dir)
    if found:
        names = " and ".join(str(p.relative_to(job.run_dir)) for p in found)
        raise RunExistsError(
            f"{job.method} seed {job.seed}: {job.run_dir} already holds a checkpoint ({names}); "
            "pass --resume to continue from it or --restart to start over (the old run is "
            "moved aside, not deleted)"
        )


def set_aside_previous_run(run_dir: Path) -> Path | None:
    """Move what an earlier run wrote in `run_dir` (RUN_OUTPUTS only) into
    `run_dir/previous-<UTC time>/`, keeping the relative paths; None when there was nothing.
    Renames within the folder: nothing is deleted or copied, symbolic links move as links."""
    present = [name for name in RUN_OUTPUTS if os.path.lexists(run_dir / name)]
    if (run_dir / "checkpoints").is_symlink():  # the link moves, not what it points at
        present = [n for n in present if not n.startswith("checkpoints/")] + ["checkpoints"]
    if not present:
        return None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = run_dir / f"{PREVIOUS_PREFIX}{stamp}"
    for n in itertools.count(2):
        if not os.path.lexists(target):
            break
        target = run_dir / f"{PREVIOUS_PREFIX}{stamp}-{n}"
    for name in present:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.rename(run_dir / name, destination)
    return target


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
class _Context:
    job: TrainJob
    info: D.DistInfo
    device: torch.device
    model: Any
    optimizers: dict[str, torch.optim.Optimizer]
    schedulers: dict[str, Any]
    scaler: torch.amp.GradScaler
    groups: list[str]
    params: dict[str, list[torch.nn.Parameter]]
    batch_size: int
    loader_dataset: Any = None

    @property
    def amp(self) -> bool:
        return amp_enabled(self.job.protocol.schedule, self.device)

    @property
    def channels_last(self) -> bool:
        return channels_last_enabled(self.job.protocol.schedule, self.device)


def train(job: TrainJob) -> TrainResult:
    require_weights([job.method], job.protocol)
    with D.session(job.device) as info, D.main_lock(job.run_dir, info, "trained"):
        return _train(job, info)


def _train(job: TrainJob, info: D.DistInfo) -> TrainResult:
    refuse_silent_restart(job)  # before anything is written
    previous = None
    if info.main:  # temporaries of a save that was killed are never reused
        ckpt.remove_stale_temps(job.run_dir)
        if job.restart:
            previous = set_aside_previous_run(job.run_dir)
    ctx = _setup(job, info)
    done = _resume(ctx) if job.resume else 0
    if not job.resume:
        torch.manual_seed(job.seed * 1000 + info.rank)
    loader = _loader(ctx, done)
    _prime_lazy_modules(ctx)
    steps = job.protocol.schedule.steps
    logger = _Logger(job.run_dir, info.main, done if job.resume else 0)
    start, losses = time.perf_counter(), {}
    with logger, _progress(job, info, steps, done) as advance:
        for step, batch in zip(range(done, steps), loader):
            losses = _train_step(ctx, _to_device(batch, ctx), step)
            logger.log(step + 1, losses, ctx)
            advance(losses)
            if (step + 1) % job.protocol.schedule.checkpoint_every == 0 or step + 1 == steps:
                _save_checkpoint(ctx, step + 1)
    elapsed = max(time.perf_counter() - start, 1e-9)
    result = _finish(ctx, steps, (steps - done) / elapsed, losses)
    return dataclasses.replace(result, previous=previous)


@contextlib.contextmanager
def harness_step(job: TrainJob) -> Iterator[tuple[Any, Any]]:
    """(model, step) where `step(batch) -> losses` is exactly the optimisation step `train`
    runs (autocast, scaler, channels-last, clipping, schedulers), without the data loader,
    logs or checkpoints: what the throughput benchmark times."""
    with D.session(job.device) as info:
        ctx = _setup(job, info)
        counter = itertools.count()

        def step(batch: dict[str, torch.Tensor]) -> dict[str, float]:
            return _train_step(ctx, _to_device(batch, ctx), next(counter))

        yield ctx.model, step


def _setup(job: TrainJob, info: D.DistInfo) -> _Context:
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
    optimizers = build_optimizers(model)
    groups = ordered_groups(list(optimizers))
    params = {g: [p for grp in optimizers[g].param_groups for p in grp["params"]] for g in groups}
    schedulers = build_schedulers(optimizers, model.config, schedule.steps, schedule.lr_milestones)
    use_scaler = amp_enabled(schedule, device) and schedule.amp_dtype == "float16"
    scaler = torch.amp.GradScaler(device.type, enabled=use_scaler)
    batch = batch_size_of(model.config, schedule.batch_size)
    if info.main:
        _write_run_config(job, model.config, info.world)
    return _Context(job, info, device, model, optimizers, schedulers, scaler, groups, params, batch)


def _write_run_config(job: TrainJob, config: Any, world: int) -> None:
    """`run.json`: what this run trains with, including any loss terms left out."""
    payload = {
        "method": job.method,
        "seed": job.seed,
        "variant": job.protocol.variant,
        "world": world,
        "without_pretrained_losses": job.protocol.without_pretrained_losses,
        "dropped_loss_terms": dropped_terms(job.method, job.protocol),
        "model_config": to_dict(config),
        "protocol": to_dict(job.protocol),
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
    )
    steps = job.protocol.schedule.steps
    dataset = PairDataset(store, spec, length=steps * batch * world)
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
            ctx.model.generator_losses(_to_device(batch, ctx))
        finally:
            ctx.model.train()


def _to_device(batch: dict[str, torch.Tensor], ctx: _Context) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in batch.items():
        value = value.to(ctx.device, non_blocking=True)
        if ctx.channels_last and value.dim() == 4:
            value = value.contiguous(memory_format=torch.channels_last)
        out[key] = value
    return out


def _loss_fn(model: Any, group: str) -> Any:
    return getattr(model, f"{group}_losses")


def _train_step(ctx: _Context, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
    model, schedule = ctx.model, ctx.job.protocol.schedule
    if hasattr(model, "set_epoch"):
        model.set_epoch(epoch_at(model.config, step, schedule.steps))
    logs: dict[str, float] = {}
    for group in ctx.groups:
        optimizer = ctx.optimizers[group]
        optimizer.zero_grad(set_to_none=True)
        dtype = getattr(torch, schedule.amp_dtype)
        with torch.autocast(ctx.device.type, dtype=dtype, enabled=ctx.amp):
            losses = _loss_fn(model, group)(batch)
        if "total" not in losses:
            continue
        _check_finite(ctx, losses, step, group)
        ctx.scaler.scale(losses["total"]).backward()
        _apply_gradients(ctx, group, optimizer)
        logs.update({f"{group}/{k}": float(v.detach().float()) for k, v in losses.items()})
    ctx.scaler.update()
    for scheduler in ctx.schedulers.values():
        scheduler.step()
    return logs


def _check_finite(ctx: _Context, losses: dict[str, torch.Tensor], step: int, group: str) -> None:
    bad = {k: float(v.detach().float()) for k, v in losses.items() if not torch.isfinite(v).all()}
    if D.any_flag(bool(bad), ctx.info, ctx.device):
        last = ctx.job.run_dir / "checkpoints" / "last.pt"
        terms = ", ".join(f"{k}={v}" for k, v in bad.items()) or "on another process"
        raise NonFiniteLossError(
            f"{ctx.job.method}: non-finite {group} loss at step {step + 1} ({terms}); "
            f"stopped. Last checkpoint: {last if last.is_file() else 'none'}. "
            "Try a lower lr, grad_clip > 0, or amp: false."
        )


def _apply_gradients(ctx: _Context, group: str, optimizer: torch.optim.Optimizer) -> None:
    params = ctx.params[group]
    D.average_gradients(params, ctx.info)
    ctx.scaler.unscale_(optimizer)
    if group == "generator" and hasattr(ctx.model, "clip_gradients"):
        ctx.model.clip_gradients()
    clip = ctx.job.protocol.schedule.grad_clip
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(params, clip)
    ctx.scaler.step(optimizer)


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


_FINAL_KEYS = ("method", "variant", "seed", "step", "model_config", "model", "protocol")


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


class _Logger:
    """`train_log.csv` (step, name, value, seconds) and TensorBoard events (`events/`), the
    same scalars in both; a resumed run drops what was logged after its checkpoint."""

    def __init__(self, run_dir: Path, enabled: bool, keep_until: int) -> None:
        self.enabled, self.path = enabled, run_dir / "train_log.csv"
        self.start = time.perf_counter()
        self.writer: Any = None
        if not enabled:
            return
        run_dir.mkdir(parents=True, exist_ok=True)
        _truncate_csv(self.path, keep_until)
        self.writer = open_writer(run_dir / "events", keep_until + 1 if keep_until else None)

    def log(self, step: int, losses: dict[str, float], ctx: _Context) -> None:
        if not self.enabled or (step % ctx.job.protocol.schedule.log_every and step != 1):
            return
        rows = dict(losses)
        rows.update({f"lr/{g}": o.param_groups[0]["lr"] for g, o in ctx.optimizers.items()})
        seconds = time.perf_counter() - self.start
        new = not self.path.is_file()
        with open(self.path, "a", newline="") as handle:
            out = csv.writer(handle)
            if new:
                out.writerow(["step", "name", "value", "seconds"])
            out.writerows([step, k, repr(v), f"{seconds:.3f}"] for k, v in sorted(rows.items()))
        if self.writer is not None:
            for key, value in sorted(rows.items()):
                self.writer.add_scalar(key, value, step)
            self.writer.flush()  # on disk with the CSV row, before any checkpoint

    def __enter__(self) -> _Logger:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.close()


def _truncate_csv(path: Path, keep_until: int) -> None:
    """Fresh run: start a new log. Resume: drop rows logged after the checkpoint."""
    if not path.is_file():
        return
    if not keep_until:
        path.unlink()
        return
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows[:1] + [r for r in rows[1:] if int(r[0]) <= keep_until])
    atomic_write_text(path, buffer.getvalue())


@contextlib.contextmanager
def _progress(job: TrainJob, info: D.DistInfo, steps: int, done: int) -> Iterator[Any]:
    if not (job.progress and info.main):
        yield lambda losses: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn(f"[bold]{job.method}[/] seed {job.seed}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} it/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[loss]}"),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("train", total=steps, completed=done, rate="-", loss="")
        start = time.perf_counter()

        def advance(losses: dict[str, float]) -> None:
            bar.advance(task)
            ran = bar.tasks[task].completed - done
            rate = ran / max(time.perf_counter() - start, 1e-9)
            total = losses.get("generator/total", float("nan"))
            bar.update(task, rate=f"{rate:.2f}", loss=f"G {total:.4f}")

        yield advance
