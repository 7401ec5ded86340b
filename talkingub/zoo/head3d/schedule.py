"""Head3D's three training stages on the bench's one run.

"To ease the training, we train the modules in these three stages separately" (Sec. 3): stage
1 trains F_D and F_P (eq. 4), stage 2 E_H, Omega_H and Lambda (eq. 6), stage 3 E_F, Omega_F and
Phi (eq. 8), one after the other (10, 20, 50 epochs, Sec. 4.2). Here each stage is an
optimiser group of its own (`stage1`, `stage2`, `stage3`, one Adam each; stage 1's has F_D and
F_P at their two learning rates); the run's epochs (`optim.epochs`, the sum over the trained
stages, which the bench maps onto its steps: `talkingub.bench.optim.epoch_at`) are cut into
the stages in order, and a step trains only the stage its epoch falls in: the other groups
return no loss and do not step. The earlier stages' networks run without gradients and in
eval mode (their batch-norm statistics frozen) while a later one trains.

Learning rates: each stage's own (`StageOptim`), dropped by `gamma` at its milestones counted
in the stage's own epochs (stage 1 at 5, stage 2 at 10, stage 3 none). The model sets them on
its optimisers at every `set_epoch`, so they follow the paper's per-stage schedule whatever
the protocol's `lr_schedule` is (`optim.milestones` stays empty: the bench's MultiStepLR then
changes nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from talkingub.zoo.head3d.config import Head3DConfig, StageOptim

GROUPS = {1: "stage1", 2: "stage2", 3: "stage3"}


def stage_at(config: Head3DConfig, epoch: int) -> tuple[int, int]:
    """(stage, epoch within it) of the run's `epoch`; past the end: the last stage."""
    start = 0
    for stage in config.stages:
        epochs = config.stage_optim[stage - 1].epochs
        if epoch < start + epochs:
            return stage, epoch - start
        start += epochs
    last = config.stages[-1]
    return last, epoch - (start - config.stage_optim[last - 1].epochs)


def lr_factor(stage: StageOptim, within: int) -> float:
    """gamma ** (milestones reached), epochs counted within the stage."""
    return float(stage.gamma ** sum(1 for m in stage.milestones if within >= m))


def adam(
    groups: list[tuple[Iterable[nn.Parameter], float]], config: Head3DConfig
) -> torch.optim.Adam:
    """One Adam over (parameters, lr) groups, each remembering its `base_lr`."""
    return torch.optim.Adam(
        [{"params": list(p), "lr": lr, "base_lr": lr} for p, lr in groups],
        betas=config.optim.betas,
        weight_decay=config.optim.weight_decay,
    )


def set_stage_lr(optimizer: torch.optim.Optimizer, stage: StageOptim, within: int) -> None:
    factor = lr_factor(stage, within)
    for group in optimizer.param_groups:
        group["lr"] = group.get("base_lr", group["lr"]) * factor


@contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """The modules in eval mode for the block (an earlier stage under a later one)."""
    modes = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(modules, modes):
            m.train(mode)
