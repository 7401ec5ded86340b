"""The interface the bench uses for every synthesis model.

Tensors: images are float32 in [0, 1], shape [B, 3, H, W]; driving sequences are
[B, T, 3, H, W]. A training batch is a dict with at least `source` and `driving`
([B, 3, H, W] each) and, for models that use them, `source_face` / `driving_face`
(face crops resized to the model's face resolution) and `source_face_box` /
`driving_face_box` ([B, 4] normalised x0, y0, x1, y1 in the full image).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

Batch = dict[str, torch.Tensor]


class SynthesisModel(nn.Module):
    model_name: ClassVar[str] = ""
    #: animate() modes this method supports.
    animate_modes: ClassVar[tuple[str, ...]] = ("relative",)

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config

    # --- training -------------------------------------------------------------------------
    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters per optimiser: `generator` always; `discriminator` when the method has one."""
        return {"generator": [p for p in self.parameters() if p.requires_grad]}

    def generator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Loss terms of the generator step; key `total` is what gets back-propagated."""
        raise NotImplementedError

    def discriminator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Loss terms of the discriminator step (uses what the last generator step produced)."""
        return {}

    def train_step(
        self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]
    ) -> dict[str, float]:
        """One optimisation step on the CPU/GPU without AMP (the bench loop adds AMP/clipping)."""
        out: dict[str, float] = {}
        for group, losses_fn in (
            ("generator", self.generator_losses),
            ("discriminator", self.discriminator_losses),
        ):
            if group not in optimizers:
                continue
            optimizers[group].zero_grad(set_to_none=True)
            losses = losses_fn(batch)
            if "total" not in losses:
                continue
            losses["total"].backward()
            optimizers[group].step()
            out.update({f"{group}/{k}": float(v.detach()) for k, v in losses.items()})
        return out

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
