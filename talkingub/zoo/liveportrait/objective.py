"""The teachers LivePortrait's losses need, held outside the module tree (never in the state
dict, never trained), and the cascaded image terms of stage I ([P] Sec. 3.2: perceptual and
GAN losses on the global image and on the face and lip regions, the face-id loss)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from talkingub.zoo.common.perceptual import PerceptualLoss
from talkingub.zoo.liveportrait.config import LivePortraitConfig
from talkingub.zoo.liveportrait.losses import (
    DiscOutput,
    discriminator_hinge,
    generator_hinge,
    pyramid,
)
from talkingub.zoo.liveportrait.pasteback import crop_region
from talkingub.zoo.liveportrait.teachers import LandmarkTeacher, face_id_loss, load_arcface
from talkingub.zoo.osfv.hopenet import load_hopenet

REGIONS = ("global", "face", "lip")


def region_sizes(config: LivePortraitConfig) -> dict[str, int]:
    """Sides the regions are compared at: the full output, half of it (face), a quarter (lip).
    [P] gives no sizes; the face box is about 1/2.3 of the crop, the lip region smaller."""
    out = config.output_size
    return {"global": out, "face": out // 2, "lip": out // 4}


class Teachers:
    def __init__(self, config: LivePortraitConfig) -> None:
        self.config = config
        self._nets: dict[str, Any] = {}

    def needed(self) -> list[str]:
        cfg = self.config
        names = []
        if cfg.perceptual != "off":
            names.append("perceptual")
        if cfg.head_pose_loss and cfg.loss.head_pose:
            names.append("hopenet")
        if cfg.face_id != "off" and cfg.loss.face_id:
            names.append("arcface")
        if cfg.landmark_guide:
            names.append("landmarks")
        return names

    def prepare(self) -> None:
        """Build every teacher the config needs now (raises WeightsMissingError early)."""
        for name in self.needed():
            self._get(name)

    def _get(self, name: str) -> Any:
        if name not in self._nets:
            cfg = self.config
            if name == "perceptual":
                loss = cfg.loss
                self._nets[name] = PerceptualLoss(
                    loss.perceptual_scales, loss.perceptual, mode=cfg.perceptual
                )
            elif name == "hopenet":
                self._nets[name] = load_hopenet()
            elif name == "arcface":
                self._nets[name] = load_arcface(cfg.face_id)
            else:
                self._nets[name] = LandmarkTeacher.load()
        return self._nets[name]

    def get(self, name: str, like: torch.Tensor) -> Any:
        """The teacher `name` on `like`'s device, or None when the config switches it off."""
        if name not in self.needed():
            return None
        net = self._get(name)
        if isinstance(net, LandmarkTeacher):
            return net.to(like.device)
        first = next(iter(net.parameters()), None) if isinstance(net, nn.Module) else None
        if first is not None and first.device != like.device:
            net.to(like.device)
        return net

    def set(self, name: str, net: Any) -> None:
        """Install a teacher (tests: a stand-in for a network whose weights are not here)."""
        self._nets[name] = net


def region_images(
    image: torch.Tensor, face: torch.Tensor, lip: torch.Tensor, sizes: dict[str, int]
) -> dict[str, torch.Tensor]:
    return {
        "global": image,
        "face": crop_region(image, face, sizes["face"]),
        "lip": crop_region(image, lip, sizes["lip"]),
    }


def cascaded_terms(
    config: LivePortraitConfig,
    teachers: Teachers,
    discs: nn.ModuleDict,
    pred: dict[str, torch.Tensor],
    real: dict[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    """L_P,cascade and L_G,cascade over the global / face / lip images."""
    loss = config.loss
    out: dict[str, torch.Tensor] = {}
    perceptual = teachers.get("perceptual", pred["global"])
    scales = config.discriminator.scales
    for weight, name in zip(loss.region_weights, REGIONS):
        if not weight:
            continue
        if perceptual is not None:
            out[f"perceptual_{name}"] = weight * perceptual(pred[name], real[name])
        if loss.generator_gan:
            fake_out: DiscOutput = discs[name](pyramid(pred[name], scales))
            out[f"gan_{name}"] = weight * loss.generator_gan * generator_hinge(fake_out)
    if loss.reconstruction:
        out["reconstruction"] = loss.reconstruction * (pred["global"] - real["global"]).abs().mean()
    return out


def discriminator_terms(
    config: LivePortraitConfig,
    discs: nn.ModuleDict,
    pred: dict[str, torch.Tensor],
    real: dict[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    loss = config.loss
    scales = config.discriminator.scales
    out = {}
    for weight, name in zip(loss.region_weights, REGIONS):
        if weight:
            fake_out = discs[name](pyramid(pred[name].detach(), scales))
            real_out = discs[name](pyramid(real[name], scales))
            out[f"gan_{name}"] = (
                weight * loss.discriminator_gan * discriminator_hinge(real_out, fake_out)
            )
    return out


def face_id_term(
    config: LivePortraitConfig,
    teachers: Teachers,
    pred: torch.Tensor,
    source: torch.Tensor,
    face_box: torch.Tensor,
) -> dict[str, torch.Tensor]:
    net = teachers.get("arcface", pred)
    if net is None:
        return {}
    return {"face_id": config.loss.face_id * face_id_loss(net, pred, source, face_box)}
