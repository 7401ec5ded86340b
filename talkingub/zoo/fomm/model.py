"""FOMM behind the model registry: keypoint detector + occlusion-aware generator (+ dense motion),
optional multi-scale discriminator; relative and absolute animation.

The discriminator exists, and is an optimiser / loss group, only when the generator's GAN
weight `loss_weights.generator_gan` is non-zero: first-order-model's train.py steps its
discriminator optimiser only `if train_params['loss_weights']['generator_gan'] != 0`, and
GeneratorFullModel computes the GAN and feature-matching terms under the same condition
(AliaksandrSiarohin/first-order-model@69c890159ca9 train.py and modules/model.py, unchanged at
40fddaff7eac). So vox-256 (`generator_gan: 0`) never trains it; its weights in the published
checkpoint are the initial ones. `discriminator_gan` then only scales its loss.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from talkingub.models.base import Batch, SynthesisModel
from talkingub.models.registry import register_model
from talkingub.zoo.fomm.config import FOMMConfig
from talkingub.zoo.fomm.discriminator import MultiScaleDiscriminator
from talkingub.zoo.fomm.generator import OcclusionAwareGenerator
from talkingub.zoo.fomm.keypoint_detector import KeypointDetector, Keypoints
from talkingub.zoo.fomm.losses import (
    discriminator_gan_loss,
    equivariance_losses,
    generator_gan_losses,
)
from talkingub.zoo.keypoint_common.animation import animate_sequence, check_mode
from talkingub.zoo.keypoint_common.motion import movement_scale, relative_jacobian, relative_points
from talkingub.zoo.keypoint_common.training import LazyPerceptual, sum_losses


@register_model("fomm", FOMMConfig, Path(__file__).parent / "configs")
class FOMM(SynthesisModel):
    animate_modes = ("relative", "absolute")

    def __init__(self, config: FOMMConfig) -> None:
        super().__init__(config)
        c = config
        self.kp_detector = KeypointDetector(c.num_kp, c.num_channels, c.keypoint_detector)
        self.generator = OcclusionAwareGenerator(
            c.num_kp, c.num_channels, c.generator, c.dense_motion, c.align_corners
        )
        self.discriminator: MultiScaleDiscriminator | None = None
        if c.loss_weights.generator_gan != 0:  # train.py: the GAN trains only then
            self.discriminator = MultiScaleDiscriminator(c.num_channels, c.discriminator)
        self.perceptual = LazyPerceptual(
            c.perceptual, c.perceptual_scales, c.loss_weights.perceptual, c.pyramid_downsample
        )
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        groups = {"generator": [*self.kp_detector.parameters(), *self.generator.parameters()]}
        if self.discriminator is not None:
            groups["discriminator"] = list(self.discriminator.parameters())
        return groups

    # --- training -------------------------------------------------------------------------
    def generator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        source, driving = batch["source"], batch["driving"]
        w = self.config.loss_weights
        kp_source, kp_driving = self.kp_detector(source), self.kp_detector(driving)
        pred = self.generator(source, kp_source, kp_driving)["prediction"]
        losses: dict[str, torch.Tensor] = {}
        if self.config.perceptual != "off" and sum(w.perceptual) > 0:
            losses["perceptual"] = self.perceptual(pred, driving)
        if self.discriminator is not None:
            losses.update(generator_gan_losses(self.discriminator, driving, pred, w))
        losses.update(
            equivariance_losses(
                self.kp_detector,
                driving,
                kp_driving,
                w,
                self.config.transform,
                self.config.align_corners,
            )
        )
        losses["total"] = sum_losses(losses, pred)
        losses["l1"] = (pred - driving).abs().mean().detach()  # monitoring only
        self._last = (driving, pred.detach())
        return losses

    def discriminator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        if self.discriminator is None:
            return {}
        if self._last is None:
            with torch.no_grad():
                self.generator_losses(batch)
        assert self._last is not None
        real, fake = self._last
        loss = discriminator_gan_loss(
            self.discriminator, real, fake, self.config.loss_weights.discriminator_gan
        )
        return {"disc_gan": loss, "total": loss}

    # --- inference ------------------------------------------------------------------------
    def reconstruct(
        self, source: torch.Tensor, driving: torch.Tensor, **extra: Any
    ) -> torch.Tensor:
        """Same-identity protocol of reconstruction.py: the driving keypoints as they are."""
        return self.animate(source, driving, mode="absolute")

    def animate(
        self, source: torch.Tensor, driving: torch.Tensor, mode: str = "relative", **extra: Any
    ) -> torch.Tensor:
        check_mode(mode, self.animate_modes, "fomm")

        def transfer(kp_s: Keypoints, kp_d: Keypoints, kp_d0: Keypoints) -> Keypoints:
            return kp_d if mode == "absolute" else self.relative_keypoints(kp_s, kp_d, kp_d0)

        def render(
            src: torch.Tensor, kp_s: Keypoints, kp: Keypoints, _: torch.Tensor
        ) -> torch.Tensor:
            return self.generator(src, kp_s, kp)["prediction"]

        return animate_sequence(source, driving, self.kp_detector, transfer, render)

    def relative_keypoints(self, kp_s: Keypoints, kp_d: Keypoints, kp_d0: Keypoints) -> Keypoints:
        """normalize_kp of animate.py with use_relative_movement=True."""
        anim = self.config.animation
        scale = movement_scale(kp_s["value"], kp_d0["value"]) if anim.adapt_movement_scale else 1.0
        out = dict(kp_d)
        out["value"] = relative_points(kp_s["value"], kp_d["value"], kp_d0["value"], scale)
        if anim.use_relative_jacobian and "jacobian" in kp_d:
            out["jacobian"] = relative_jacobian(
                kp_s["jacobian"], kp_d["jacobian"], kp_d0["jacobian"]
            )
        return out
