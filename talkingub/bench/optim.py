"""Optimisers and learning-rate schedules from each model's own config.

Models name their optimiser groups (`parameter_groups()`: `generator`, `discriminator`,
`avd`) and keep Adam settings under `config.optim` (`lr`, `betas`, `weight_decay`), with
MultiStepLR milestones in epochs (`lr_milestones`/`lr_gamma` in FOMM/MRAA/TPSMM,
`milestones`/`gamma` in OSFV/PTUS). A model may build its own optimisers
(`build_optimizers()`, e.g. LIA's lazy-regularisation-adjusted lr/betas). The bench runs a
fixed number of steps, so an epoch milestone m of E epochs becomes step round(m / E * steps).
"""

from __future__ import annotations

from typing import Any

import torch

# Order of the optimiser steps within one training step.
GROUP_ORDER = ("generator", "discriminator")


def ordered_groups(groups: list[str]) -> list[str]:
    known = [g for g in GROUP_ORDER if g in groups]
    return known + sorted(g for g in groups if g not in GROUP_ORDER)


def build_optimizers(model: Any) -> dict[str, torch.optim.Optimizer]:
    if hasattr(model, "build_optimizers"):
        return dict(model.build_optimizers())
    optim = getattr(model.config, "optim", None)
    lr = float(getattr(optim, "lr", 2e-4))
    betas = tuple(getattr(optim, "betas", (0.5, 0.999)))
    decay = float(getattr(optim, "weight_decay", 0.0))
    return {
        group: torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=decay)
        for group, params in model.parameter_groups().items()
        if params
    }


def milestone_steps(config: Any, steps: int) -> tuple[list[int], float]:
    """Model milestones (epochs) mapped onto `steps`, and gamma; ([], 1.0) when none."""
    optim = getattr(config, "optim", None)
    milestones = getattr(optim, "lr_milestones", None) or getattr(optim, "milestones", None)
    epochs = getattr(optim, "epochs", None)
    if not milestones or not epochs:
        return [], 1.0
    gamma = float(getattr(optim, "lr_gamma", getattr(optim, "gamma", 0.1)))
    mapped = sorted({max(1, round(m / epochs * steps)) for m in milestones})
    return mapped, gamma


def build_schedulers(
    optimizers: dict[str, torch.optim.Optimizer], config: Any, steps: int, enabled: bool
) -> dict[str, torch.optim.lr_scheduler.MultiStepLR]:
    milestones, gamma = milestone_steps(config, steps) if enabled else ([], 1.0)
    return {
        group: torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=gamma)
        for group, opt in optimizers.items()
    }


def epoch_at(config: Any, step: int, steps: int) -> int:
    """The model's notion of 'epoch' at `step` (TPSMM's dropout / background schedules)."""
    epochs = getattr(getattr(config, "optim", None), "epochs", None)
    return int(step / max(1, steps) * epochs) if epochs else 0


def batch_size_of(config: Any, override: int | None) -> int:
    if override:
        return override
    return int(getattr(getattr(config, "optim", None), "batch_size", 1) or 1)
