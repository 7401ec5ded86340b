"""The one optimisation step every model trains with: in `talkingub bench train`, in the
throughput benchmark (`talkingub.bench.train.harness_step`) and in the model tests
(`make_step`).

One step runs each optimiser group of the model in `model.loss_groups()` order (generator,
discriminator, then e.g. `avd`) that has an optimiser: its loss terms (`model.losses(group,
batch)`) under autocast (when the schedule enables it), NaN/inf check (stops with the step,
the group and the offending terms), scaled backward, gradient averaging across torchrun
processes, the model's own clipping (`clip_gradients`, generator group) and the schedule's
global norm clip, then the optimiser step; after the groups, the LR schedulers. Before the
groups, `model.set_epoch` gets the epoch the step falls in.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any, TypeVar

import torch

from talkingub.bench import distributed as D
from talkingub.bench.optim import build_optimizers, build_schedulers, epoch_at
from talkingub.bench.precision import amp_enabled, channels_last_enabled
from talkingub.bench.protocol import ScheduleConfig
from talkingub.errors import ConfigError, TalkingubError
from talkingub.models.base import Batch, SynthesisModel

AMP_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}

Parts = TypeVar("Parts", bound="StepParts")


class NonFiniteLossError(TalkingubError):
    """A loss became NaN or infinite; training stops instead of writing garbage weights."""


@dataclasses.dataclass
class StepParts:
    """Everything one optimisation step reads or updates."""

    model: SynthesisModel
    optimizers: dict[str, torch.optim.Optimizer]
    schedulers: dict[str, Any]
    scaler: torch.amp.GradScaler
    schedule: ScheduleConfig
    device: torch.device
    info: D.DistInfo
    groups: list[str]  # the optimiser groups, in step order
    params: dict[str, list[torch.nn.Parameter]]  # what each group's optimiser updates
    label: str  # names the run in errors (the method)
    checkpoint: Path | None  # the run's last checkpoint, named when a loss goes non-finite

    @classmethod
    def build(
        cls: type[Parts],
        model: SynthesisModel,
        schedule: ScheduleConfig,
        device: torch.device,
        info: D.DistInfo,
        *,
        optimizers: dict[str, torch.optim.Optimizer] | None = None,
        label: str = "",
        checkpoint: Path | None = None,
        **extra: Any,
    ) -> Parts:
        """The parts for `model` (already on `device`): its own optimisers unless given, LR
        schedulers for the schedule's `lr_schedule` (`talkingub.bench.optim.build_schedulers`)
        and a GradScaler (float16 autocast only). `extra`: the fields a subclass adds."""
        if optimizers is None:
            optimizers = build_optimizers(model)
        groups = step_groups(model, optimizers)
        params = {g: [p for pg in optimizers[g].param_groups for p in pg["params"]] for g in groups}
        schedulers = build_schedulers(optimizers, model.config, schedule)
        use_scaler = amp_enabled(schedule, device) and schedule.amp_dtype == "float16"
        scaler = torch.amp.GradScaler(device.type, enabled=use_scaler)
        return cls(
            model=model,
            optimizers=optimizers,
            schedulers=schedulers,
            scaler=scaler,
            schedule=schedule,
            device=device,
            info=info,
            groups=groups,
            params=params,
            label=label or model.model_name,
            checkpoint=checkpoint,
            **extra,
        )

    @property
    def amp(self) -> bool:
        return amp_enabled(self.schedule, self.device)

    @property
    def channels_last(self) -> bool:
        return channels_last_enabled(self.schedule, self.device)


def step_groups(model: SynthesisModel, optimizers: dict[str, torch.optim.Optimizer]) -> list[str]:
    """The groups a step runs: the model's `loss_groups()` that have an optimiser; an optimiser
    of a group the model has no losses for is a mistake (it would never step)."""
    order = model.loss_groups()
    stray = sorted(set(optimizers) - set(order))
    if stray:
        raise ConfigError(
            f"{model.model_name or type(model).__name__}: optimisers for {stray} but the "
            f"model's loss groups are {list(order)}"
        )
    return [g for g in order if g in optimizers]


def to_device(batch: Batch, parts: StepParts) -> Batch:
    out = {}
    for key, value in batch.items():
        value = value.to(parts.device, non_blocking=True)
        if parts.channels_last and value.dim() == 4:
            value = value.contiguous(memory_format=torch.channels_last)
        out[key] = value
    return out


def run_step(parts: StepParts, batch: Batch, step: int) -> dict[str, float]:
    """One optimisation step (step index `step`, from 0) on a batch already on the device."""
    model, schedule = parts.model, parts.schedule
    model.set_epoch(epoch_at(model.config, step, schedule.steps))
    logs: dict[str, float] = {}
    dtype = AMP_DTYPES[schedule.amp_dtype]
    for group in parts.groups:
        optimizer = parts.optimizers[group]
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(parts.device.type, dtype=dtype, enabled=parts.amp):
            losses = model.losses(group, batch)
        if "total" not in losses:
            continue
        check_finite(parts, losses, step, group)
        parts.scaler.scale(losses["total"]).backward()
        apply_gradients(parts, group, optimizer)
        logs.update({f"{group}/{k}": float(v.detach().float()) for k, v in losses.items()})
    parts.scaler.update()
    for scheduler in parts.schedulers.values():
        scheduler.step()
    return logs


def check_finite(parts: StepParts, losses: dict[str, torch.Tensor], step: int, group: str) -> None:
    bad = {k: float(v.detach().float()) for k, v in losses.items() if not torch.isfinite(v).all()}
    if D.any_flag(bool(bad), parts.info, parts.device):
        last = parts.checkpoint
        saved = last if last is not None and last.is_file() else "none"
        terms = ", ".join(f"{k}={v}" for k, v in bad.items()) or "on another process"
        raise NonFiniteLossError(
            f"{parts.label}: non-finite {group} loss at step {step + 1} ({terms}); "
            f"stopped. Last checkpoint: {saved}. "
            "Try a lower lr, grad_clip > 0, or amp: false."
        )


def apply_gradients(parts: StepParts, group: str, optimizer: torch.optim.Optimizer) -> None:
    params = parts.params[group]
    D.average_gradients(params, parts.info)
    parts.scaler.unscale_(optimizer)
    if group == "generator":
        parts.model.clip_gradients()
    clip = parts.schedule.grad_clip
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(params, clip)
    parts.scaler.step(optimizer)


class TrainStep:
    """`step(batch)` runs one optimisation step and returns the logged loss terms
    (`<group>/<term>`); the step index (the epoch `set_epoch` gets) counts from 0, or is
    `step(batch, index)`. The batch is moved to the device (channels-last where enabled)."""

    def __init__(self, parts: StepParts) -> None:
        self.parts = parts
        self._counter = itertools.count()

    @property
    def model(self) -> SynthesisModel:
        return self.parts.model

    def __call__(self, batch: Batch, index: int | None = None) -> dict[str, float]:
        step = next(self._counter) if index is None else index
        return run_step(self.parts, to_device(batch, self.parts), step)


#: make_step's schedule unless one is given: no LR milestones, no global clip; AMP and
#: channels-last inputs on CUDA only (the protocol defaults).
BARE_SCHEDULE = ScheduleConfig(lr_milestones=False)


def make_step(
    model: SynthesisModel,
    optimizers: dict[str, torch.optim.Optimizer] | None = None,
    schedule: ScheduleConfig | None = None,
    device: torch.device | str = "cpu",
) -> TrainStep:
    """The bench's optimisation step for an in-memory `model` (already on `device`), one
    process: the model's own optimisers unless `optimizers` are given (then only their groups
    step), LR schedulers from `schedule` (default `BARE_SCHEDULE`)."""
    parts = StepParts.build(
        model,
        schedule or BARE_SCHEDULE,
        torch.device(device),
        D.DistInfo(),
        optimizers=optimizers,
    )
    return TrainStep(parts)
