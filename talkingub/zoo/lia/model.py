"""LIA (Latent Image Animator, Wang et al., ICLR 2022) behind the talkingub model interface.

Images cross the interface in [0, 1]; LIA works in [-1, 1] internally (wyhsirius/LIA@train.py
normalises with mean = std = 0.5). Training (wyhsirius/LIA@trainer.py, Trainer.gen_update /
dis_update): the generator reconstructs the driving frame from the source with absolute motion,
loss = L1 + VGG pyramid perceptual + non-saturating GAN (all weight 1); the discriminator sees
the driving frame as real and that reconstruction as fake, non-saturating loss, no R1.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.errors import ConfigError
from talkingub.models.base import Batch, SynthesisModel
from talkingub.models.registry import register_model
from talkingub.zoo.common.perceptual import PerceptualLoss
from talkingub.zoo.lia.config import LIAConfig
from talkingub.zoo.lia.discriminator import Discriminator
from talkingub.zoo.lia.generator import LIAGenerator
from talkingub.zoo.lia.styleconv import channel_table

PERCEPTUAL_PREFIX = "perceptual."


def to_signed(image: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1]."""
    return image * 2.0 - 1.0


def to_unit(image: torch.Tensor) -> torch.Tensor:
    """[-1, 1] (clamped) -> [0, 1]."""
    return (image.clamp(-1.0, 1.0) + 1.0) * 0.5


@register_model("lia", LIAConfig, Path(__file__).parent / "configs")
class LIA(SynthesisModel):
    animate_modes: ClassVar[tuple[str, ...]] = ("relative", "absolute")
    config: LIAConfig

    def __init__(self, config: LIAConfig) -> None:
        super().__init__(config)
        c = config
        channels = channel_table(c.image_size, c.channel_multiplier, c.channel_base, c.channel_max)
        taps = tuple(c.blur_kernel)
        self.generator = LIAGenerator(
            c.image_size,
            c.latent_dim,
            c.motion_dim,
            c.motion_mlp_depth,
            channels,
            taps,
            c.align_corners,
        )
        self.discriminator = Discriminator(c.image_size, channels, taps, c.stddev_group)
        self.perceptual = PerceptualLoss(
            c.perceptual_scales, c.perceptual_layer_weights, mode=c.perceptual
        )
        self._fake: torch.Tensor | None = None
        # The frozen VGG is a loss network, not model state: keep it out of checkpoints.
        self.register_state_dict_post_hook(_drop_perceptual_keys)
        self.register_load_state_dict_post_hook(_ignore_missing_perceptual)

    # --- training -------------------------------------------------------------------------
    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return {
            "generator": list(self.generator.parameters()),
            "discriminator": list(self.discriminator.parameters()),
        }

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam per group with the reference's effective lr / betas (see LIAOptim.adam)."""
        optimizers: dict[str, torch.optim.Optimizer] = {}
        for group, params in self.parameter_groups().items():
            lr, betas = self.config.optim.adam(group)  # type: ignore[arg-type]
            optimizers[group] = torch.optim.Adam(params, lr=lr, betas=betas)
        return optimizers

    def generator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        source, driving = to_signed(batch["source"]), to_signed(batch["driving"])
        recon = self.generator(source, driving)
        self._fake = recon.detach()
        w = self.config.losses
        losses = {"l1": F.l1_loss(recon, driving)}
        total = w.l1 * losses["l1"]
        if w.perceptual and self.config.perceptual != "off":
            # LIA's VGG clamps to [-1, 1] and maps to [0, 1] before ImageNet normalisation.
            losses["perceptual"] = self.perceptual(to_unit(recon), batch["driving"])
            total = total + w.perceptual * losses["perceptual"]
        if w.adversarial:
            losses["adversarial"] = F.softplus(-self.discriminator(recon)).mean()
            total = total + w.adversarial * losses["adversarial"]
        return {**losses, "total": total}

    def discriminator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        real = to_signed(batch["driving"])
        fake = self._fake
        if fake is None or fake.shape != real.shape:
            with torch.no_grad():
                fake = self.generator(to_signed(batch["source"]), real)
        self._fake = None
        real_loss = F.softplus(-self.discriminator(real)).mean()
        fake_loss = F.softplus(self.discriminator(fake)).mean()
        return {"real": real_loss, "fake": fake_loss, "total": real_loss + fake_loss}

    # --- inference ------------------------------------------------------------------------
    def reconstruct(
        self, source: torch.Tensor, driving: torch.Tensor, **extra: Any
    ) -> torch.Tensor:
        """Same-identity reconstruction with absolute motion (wyhsirius/LIA@evaluation.py)."""
        return self.animate(source, driving, mode="absolute")

    def animate(
        self, source: torch.Tensor, driving: torch.Tensor, mode: str = "relative", **extra: Any
    ) -> torch.Tensor:
        """Animate `source` [B,3,H,W] with `driving` [B,T,3,H,W]; output [B,T,3,H,W] in [0,1].

        absolute: z = z_s + w(d_t). relative (LIA's demo default): z = z_s + w(s) +
        w(d_t) - w(d_0), so a driving frame equal to the first one reproduces the source path.
        """
        if mode not in self.animate_modes:
            raise ConfigError(f"lia: unknown animate mode {mode!r} (have {self.animate_modes})")
        gen = self.generator
        latent, feats = gen.encoder.encode(to_signed(source))
        frames = to_signed(driving)
        if mode == "relative":
            source_code = gen.dictionary(gen.encoder.motion(latent))
            latent = latent + source_code - gen.motion_code(frames[:, 0])
        outputs = [
            to_unit(gen.synthesis(latent + gen.motion_code(frames[:, t]), feats))
            for t in range(frames.shape[1])
        ]
        return torch.stack(outputs, dim=1)


def _drop_perceptual_keys(
    module: nn.Module, state: OrderedDict[str, Any], prefix: str, local_metadata: Any
) -> None:
    for key in [k for k in state if k.startswith(prefix + PERCEPTUAL_PREFIX)]:
        del state[key]


def _ignore_missing_perceptual(module: nn.Module, incompatible: Any) -> None:
    missing = incompatible.missing_keys
    missing[:] = [
        k for k in missing if not (k.startswith(PERCEPTUAL_PREFIX) or f".{PERCEPTUAL_PREFIX}" in k)
    ]
