"""Image-level terms of the OSFV objective and the frozen teachers they need.

Perceptual (shared multi-scale VGG-19 loss, talkingub.zoo.common.perceptual), optional pixel L1,
GAN + feature matching on a multi-scale patch discriminator, and the Hopenet head-pose
teacher. Teachers are built on first use, never saved in the model's state dict and never
trained; a missing weights file stops training with the fetch command.
"""

from __future__ import annotations

import torch
from torch import nn

from talkingub.errors import ConfigError
from talkingub.zoo.common.perceptual import PerceptualLoss
from talkingub.zoo.osfv.blocks import AntiAliasDownsample
from talkingub.zoo.osfv.config import OSFVConfig
from talkingub.zoo.osfv.discriminator import MultiScaleDiscriminator
from talkingub.zoo.osfv.head_pose import HeadPose
from talkingub.zoo.osfv.hopenet import load_hopenet
from talkingub.zoo.osfv.losses import (
    discriminator_loss,
    feature_matching_loss,
    generator_gan_loss,
    head_pose_loss,
)


class Objective:
    """Holds the teachers outside the module tree (so they stay out of state_dict/parameters)."""

    def __init__(self, config: OSFVConfig) -> None:
        self.config = config
        self._teachers: dict[str, nn.Module] = {}

    def _teacher(self, name: str, like: torch.Tensor) -> nn.Module:
        if name not in self._teachers:
            self._teachers[name] = self._build(name)
        net = self._teachers[name]
        if next(iter(net.buffers()), like).device != like.device:
            net.to(like.device)
        return net

    def _build(self, name: str) -> nn.Module:
        if name == "hopenet":
            return load_hopenet()
        loss = self.config.loss
        return PerceptualLoss(loss.perceptual_scales, loss.perceptual, mode=self.config.perceptual)

    def prepare(self) -> None:
        """Build every teacher the config needs now (raises WeightsMissingError early)."""
        needed = []
        if self.config.head_pose_loss and self.config.loss.head_pose:
            needed.append("hopenet")
        if self.config.perceptual != "off":
            needed.append("perceptual")
        for name in needed:
            if name not in self._teachers:
                self._teachers[name] = self._build(name)

    def image_terms(
        self, pred: torch.Tensor, real: torch.Tensor, disc: MultiScaleDiscriminator
    ) -> dict[str, torch.Tensor]:
        cfg = self.config.loss
        out: dict[str, torch.Tensor] = {}
        if self.config.perceptual != "off":
            out["perceptual"] = self._teacher("perceptual", pred)(pred, real)
        if cfg.reconstruction:
            out["reconstruction"] = cfg.reconstruction * (pred - real).abs().mean()
        if cfg.generator_gan:
            fake_out = disc(pyramid(pred, disc.scales))
            with torch.no_grad():
                real_out = disc(pyramid(real, disc.scales))
            out["generator_gan"] = generator_gan_loss(fake_out, cfg)
            if any(cfg.feature_matching):
                out["feature_matching"] = feature_matching_loss(real_out, fake_out, cfg)
        return out

    def head_pose(self, pose: HeadPose, teacher_input: torch.Tensor) -> dict[str, torch.Tensor]:
        if not (self.config.head_pose_loss and self.config.loss.head_pose):
            return {}
        with torch.no_grad():
            target = self._teacher("hopenet", teacher_input)(teacher_input)
        return {"head_pose": head_pose_loss(pose, target, self.config.loss.head_pose)}

    def discriminator_terms(
        self, pred: torch.Tensor, real: torch.Tensor, disc: MultiScaleDiscriminator
    ) -> dict[str, torch.Tensor]:
        fake_out = disc(pyramid(pred.detach(), disc.scales))
        real_out = disc(pyramid(real, disc.scales))
        return {"discriminator_gan": discriminator_loss(real_out, fake_out, self.config.loss)}


def pyramid(image: torch.Tensor, scales: tuple[float, ...]) -> dict[float, torch.Tensor]:
    return {s: image if s == 1.0 else _down(image, s) for s in scales}


def _down(image: torch.Tensor, scale: float) -> torch.Tensor:
    return AntiAliasDownsample(image.shape[1], scale).to(image)(image)


def total(losses: dict[str, torch.Tensor]) -> torch.Tensor:
    if not losses:
        raise ConfigError("every loss term is switched off; nothing to train")
    return torch.stack(list(losses.values())).sum()
