"""Optimisers and learning-rate schedules from each model's own config.

Models name their optimiser groups (`parameter_groups()`: `generator`, `discriminator`,
`avd`) and build their optimisers (`SynthesisModel.build_optimizers()`: Adam from
`config.optim` unless the model says otherwise, e.g. LIA's lazy-regularisation-adjusted
lr/betas). Every model config's `optim` is a `talkingub.models.optim.OptimConfig`: MultiStepLR
`milestones` in epochs of `epochs`, factor `gamma`.

The protocol's `schedule.lr_schedule` picks the LR over the bench's fixed number of steps
(`build_schedulers`; every group from its own optimiser's lr, one scheduler per group, all
torch built-ins, so their `state_dict`s resume exactly):

- `milestones` (the default): MultiStepLR. An epoch milestone m of E epochs becomes step
  round(m / E * steps) (`milestone_steps`). In a short run, one of fewer steps than the
  model's own schedule takes at the least (E epochs x `num_repeats` passes, one batch each:
  `reference_min_steps`), no milestone falls before 80% of the run: each mapped milestone is
  raised to ceil(0.8 * steps) (`scheduled_milestones`; FOMM's 60/90 of 100 epochs on 100 steps
  give 80, 90 instead of 60, 90). Longer runs (paper-gpu's 100k steps for every model) keep the
  plain mapping. `schedule.lr_milestones: false` turns the milestones off (a constant lr).
- `constant`: the model's lr at every step.
- `cosine`: CosineAnnealingLR from the model's lr to 0 at `steps` (the last step trains at
  lr * (1 - cos(pi / T)) / 2, T = steps - warm-up).

`schedule.warmup_steps` W (constant / cosine) prepends LinearLR: step i < W trains at
(i + 1) / (W + 1) of the lr, step W at the full lr (SequentialLR hands over to the cosine
there). W is cut to steps - 1 when the run is not longer than the warm-up (e.g. a --steps
override of a protocol made for longer runs).
"""

from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    SequentialLR,
)

from talkingub.bench.protocol import ScheduleConfig
from talkingub.models.base import GROUP_ORDER, SynthesisModel, ordered_groups
from talkingub.models.optim import HasOptim

__all__ = [
    "GROUP_ORDER",
    "batch_size_of",
    "build_optimizers",
    "build_schedulers",
    "epoch_at",
    "milestone_steps",
    "ordered_groups",
    "reference_min_steps",
    "scheduled_milestones",
]

#: In a short run no milestone falls before this fraction of the steps (`scheduled_milestones`).
SHORT_RUN_FLOOR = 0.8


def build_optimizers(model: SynthesisModel) -> dict[str, torch.optim.Optimizer]:
    return dict(model.build_optimizers())


def milestone_steps(config: HasOptim, steps: int) -> tuple[list[int], float]:
    """Model milestones (epochs) mapped onto `steps`, and gamma; ([], 1.0) when none."""
    optim = config.optim
    if not optim.milestones or not optim.epochs:
        return [], 1.0
    mapped = sorted({max(1, round(m / optim.epochs * steps)) for m in optim.milestones})
    return mapped, float(optim.gamma)


def reference_min_steps(config: HasOptim) -> int:
    """The fewest optimiser steps the model's own epoch schedule can take: `epochs` x
    `num_repeats` passes over the data, one batch each; 0 when it counts no epochs."""
    optim = config.optim
    return int(optim.epochs) * max(1, int(optim.num_repeats))


def scheduled_milestones(config: HasOptim, steps: int) -> tuple[list[int], float]:
    """The milestones the `milestones` schedule steps at: `milestone_steps`, each raised to
    ceil(SHORT_RUN_FLOOR * steps) when `steps` < `reference_min_steps` (a short run)."""
    milestones, gamma = milestone_steps(config, steps)
    if milestones and steps < reference_min_steps(config):
        floor = math.ceil(SHORT_RUN_FLOOR * steps)
        milestones = sorted({max(m, floor) for m in milestones})
    return milestones, gamma


def build_schedulers(
    optimizers: dict[str, torch.optim.Optimizer], config: HasOptim, schedule: ScheduleConfig
) -> dict[str, LRScheduler]:
    """One LR scheduler per optimiser group (stepped once after every optimisation step) for
    the protocol's `schedule`: its `steps`, `lr_schedule`, `warmup_steps`, `lr_milestones`."""
    steps = schedule.steps
    if schedule.lr_schedule == "milestones":
        on = schedule.lr_milestones
        milestones, gamma = scheduled_milestones(config, steps) if on else ([], 1.0)
        return {
            group: MultiStepLR(opt, milestones=milestones, gamma=gamma)
            for group, opt in optimizers.items()
        }
    warmup = min(schedule.warmup_steps, max(0, steps - 1))
    return {
        group: _warmup_then(schedule.lr_schedule, opt, steps, warmup)
        for group, opt in optimizers.items()
    }


def _warmup_then(
    mode: str, optimizer: torch.optim.Optimizer, steps: int, warmup: int
) -> LRScheduler:
    """`mode` ("constant" / "cosine") after a linear warm-up of `warmup` steps."""
    warm = (
        LinearLR(optimizer, start_factor=1.0 / (warmup + 1), total_iters=warmup) if warmup else None
    )
    if mode == "constant":
        return warm or MultiStepLR(optimizer, milestones=[], gamma=1.0)
    cosine = CosineAnnealingLR(optimizer, T_max=max(1, steps - warmup), eta_min=0.0)
    if warm is None:
        return cosine
    return SequentialLR(optimizer, schedulers=[warm, cosine], milestones=[warmup])


def epoch_at(config: HasOptim, step: int, steps: int) -> int:
    """The model's notion of 'epoch' at `step` (TPSMM's dropout / background schedules)."""
    epochs = config.optim.epochs
    return int(step / max(1, steps) * epochs) if epochs else 0


def batch_size_of(config: HasOptim, override: int | None) -> int:
    if override:
        return override
    return int(config.optim.batch_size or 1)
