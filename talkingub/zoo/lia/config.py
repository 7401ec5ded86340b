"""Typed LIA configuration. Defaults are the reference (paper) values; every YAML cites them.

Sources: wyhsirius/LIA@train.py (argparse defaults), trainer.py (losses, optimisers),
networks/*.py (sizes), vgg19.py (perceptual loss); commit 2a5bbfa2 in the search index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from talkingub.models.optim import OptimConfig
from talkingub.zoo.common.perceptual import PerceptualMode


@dataclass(frozen=True)
class LIALossWeights:
    """Generator loss = l1 * L1 + perceptual * VGG + adversarial * non-saturating GAN."""

    l1: float = 1.0
    perceptual: float = 1.0
    adversarial: float = 1.0


@dataclass(frozen=True)
class LIAOptim(OptimConfig):
    """The shared optimiser settings plus the reference's lazy-regularisation ratios: Adam
    with lr * r and betas ** r, r = k / (k + 1).

    k is g_reg_every (generator) / d_reg_every (discriminator); LIA keeps StyleGAN2's lazy-
    regularisation ratios although it applies no R1 / path-length regulariser. LIA counts
    iterations, not epochs: no epochs, no LR milestones.
    """

    lr: float = 0.002
    betas: tuple[float, float] = (0.0, 0.99)
    epochs: int = 0
    milestones: tuple[int, ...] = ()
    batch_size: int = 64
    g_reg_every: int = 4
    d_reg_every: int = 16
    iterations: int = 800_000

    def adam(
        self, group: Literal["generator", "discriminator"]
    ) -> tuple[float, tuple[float, float]]:
        """Effective (lr, betas) for one optimiser."""
        k = self.g_reg_every if group == "generator" else self.d_reg_every
        r = k / (k + 1)
        return self.lr * r, (self.betas[0] ** r, self.betas[1] ** r)


@dataclass(frozen=True)
class LIAConfig:
    image_size: int = 256
    latent_dim: int = 512
    motion_dim: int = 20
    motion_mlp_depth: int = 4
    channel_multiplier: int = 1
    channel_base: int = 16384
    channel_max: int = 512
    blur_kernel: tuple[int, ...] = (1, 3, 3, 1)
    stddev_group: int = 4
    # grid_sample convention of the flow warp: True (ours) makes a zero offset an exact copy;
    # the reference samples with torch's default, False (`talkingub weights import lia` sets it).
    align_corners: bool = True
    perceptual: PerceptualMode = "pretrained"
    perceptual_scales: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125)
    perceptual_layer_weights: tuple[float, ...] = (10.0, 10.0, 10.0, 10.0, 10.0)
    losses: LIALossWeights = field(default_factory=LIALossWeights)
    optim: LIAOptim = field(default_factory=LIAOptim)

    def __post_init__(self) -> None:
        size = self.image_size
        if size < 8 or size & (size - 1):
            raise ValueError(f"image_size must be a power of two >= 8, got {size}")
        if not 1 <= self.motion_dim <= self.latent_dim:
            raise ValueError(
                f"motion_dim must be in [1, latent_dim={self.latent_dim}], got {self.motion_dim}"
            )
