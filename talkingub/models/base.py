"""Model contract: the interface the bench uses for every synthesis model.

A model subclasses `SynthesisModel`, registers with `register_model(name, ConfigClass,
configs_dir)` (`talkingub.models.registry`) and takes one frozen config dataclass whose `optim`
is the shared `talkingub.models.optim.OptimConfig` (`lr`, `betas`, `weight_decay`, `epochs`,
`milestones`, `gamma`, `batch_size`; a model may extend it, as LIA does). It must implement
`generator_losses(batch)` (loss terms; `total` is back-propagated) and `animate(source,
driving, mode)`. Hooks with defaults: `parameter_groups()` (parameters per optimiser group;
default: all trainable ones in `generator`), `loss_groups()` (the groups in step order;
default: those of `parameter_groups()`, `generator`, `discriminator`, then the others
sorted), `losses(group, batch)` (default: `generator_losses` / `discriminator_losses`;
MRAA/TPSMM add `avd`),
`discriminator_losses(batch)` (default: none, no discriminator step), `build_optimizers()`
(default: one Adam per non-empty group from `config.optim`; MRAA/TPSMM give `avd` the AVD
stage's settings, LIA its lazy-regularisation ratios), `set_epoch(epoch)` (the epoch the next
step falls in; default: ignored, TPSMM schedules TPS dropout with it), `clip_gradients()`
(after the generator group's backward, on unscaled gradients, before the protocol's global
clip; default: nothing, TPSMM clips its motion modules) and `reconstruct(source, driving)`
(default: relative `animate`). Training has one step, the bench's (`talkingub.bench.step`;
`talkingub.bench.train.make_step` for a model built in memory): for each group of
`loss_groups()` with an optimiser, `losses(group, batch)` under autocast, NaN/inf check,
backward, `clip_gradients`, optimiser step (a group without `total` is skipped); logged as
`<group>/<term>`.

Tensors: images are float32 in [0, 1], shape [B, 3, H, W]; driving sequences are
[B, T, 3, H, W]. A training batch is a dict with at least `source` and `driving`
([B, 3, H, W] each) and, for models that use them, `source_face` / `driving_face`
(face crops resized to the model's face resolution) and `source_face_box` /
`driving_face_box` ([B, 4] normalised x0, y0, x1, y1 in the full image); a few-shot model
(`track` "few-shot", config `num_ref_frames` N) also gets `source_frames` [B, N, 3, H, W] and
`source_frames_face` / `source_frames_face_box` (`talkingub.bench.few_shot`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import torch
from torch import nn

from talkingub.errors import ConfigError
from talkingub.models.optim import OptimConfig

Batch = dict[str, torch.Tensor]

GENERATOR = "generator"
DISCRIMINATOR = "discriminator"
#: Order of the optimiser steps within one training step; other groups follow, sorted.
GROUP_ORDER = (GENERATOR, DISCRIMINATOR)

#: Evaluation tracks of trained methods (`SynthesisModel.track`): one source image
#: (FOMM, MRAA, TPSMM, LIA, OSFV, PTUS, LivePortrait); N frames of the source person's video
#: (Head3D: `source_frames`); one model per person, trained on that person's frames.
ONE_SHOT, FEW_SHOT, PERSON_SPECIFIC = "one-shot", "few-shot", "person-specific"
TRACKS = (ONE_SHOT, FEW_SHOT, PERSON_SPECIFIC)


def ordered_groups(groups: Iterable[str]) -> list[str]:
    """`groups` in step order: generator, discriminator, then the others sorted."""
    names = list(groups)
    known = [g for g in GROUP_ORDER if g in names]
    return known + sorted(g for g in names if g not in GROUP_ORDER)


class SynthesisModel(nn.Module):
    model_name: ClassVar[str] = ""
    #: animate() modes this method supports.
    animate_modes: ClassVar[tuple[str, ...]] = ("relative",)
    #: Logged loss terms a pretrained-teacher switch of the config turns on, where they differ
    #: from the bench's default names (talkingub.bench.pretrained.TERMS), e.g. PTUS's
    #: `head_pose_loss` drives both L_cam (`head_pose`) and L_B (`body_pose`).
    teacher_terms: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: The evaluation track (`TRACKS`): what the method sees of the source person. Recorded
    #: in each evaluation's summary.json; the tables label and rank the rows by it.
    track: ClassVar[str] = ONE_SHOT

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config

    # --- training -------------------------------------------------------------------------
    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters per optimiser: `generator` always; `discriminator` when the method has one."""
        return {GENERATOR: [p for p in self.parameters() if p.requires_grad]}

    def loss_groups(self) -> tuple[str, ...]:
        """The optimiser groups in the order one training step runs them."""
        return tuple(ordered_groups(self.parameter_groups()))

    def losses(self, group: str, batch: Batch) -> dict[str, torch.Tensor]:
        """Loss terms of optimiser group `group`; key `total` is what gets back-propagated."""
        if group == GENERATOR:
            return self.generator_losses(batch)
        if group == DISCRIMINATOR:
            return self.discriminator_losses(batch)
        name = self.model_name or type(self).__name__
        raise ConfigError(f"{name}: no loss function for optimiser group {group!r}")

    def generator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Loss terms of the generator step; key `total` is what gets back-propagated."""
        raise NotImplementedError

    def discriminator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Loss terms of the discriminator step (uses what the last generator step produced)."""
        return {}

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """One Adam per non-empty parameter group, with the settings of `config.optim`."""
        optim: OptimConfig = self.config.optim
        return {
            group: torch.optim.Adam(
                params, lr=optim.lr, betas=optim.betas, weight_decay=optim.weight_decay
            )
            for group, params in self.parameter_groups().items()
            if params
        }

    def set_epoch(self, epoch: int) -> None:
        """The training epoch the coming step falls in (for epoch-dependent schedules)."""

    def clip_gradients(self) -> None:
        """Clip the generator group's gradients the method's own way (before the step)."""

    # --- inference ------------------------------------------------------------------------
    def reconstruct(
        self, source: torch.Tensor, driving: torch.Tensor, **extra: Any
    ) -> torch.Tensor:
        """Same-identity reconstruction: animate `source` [B,3,H,W] with `driving` [B,T,3,H,W]."""
        return self.animate(source, driving, mode="relative", **extra)

    def animate(
        self, source: torch.Tensor, driving: torch.Tensor, mode: str = "relative", **extra: Any
    ) -> torch.Tensor:
        raise NotImplementedError
