"""OSFV / face-vid2vid (Wang, Mallya & Liu, CVPR 2021) behind the talkingub model interface.

Pipeline: appearance volume f_s = F(S); canonical keypoints x_c = L(S); pose and expression
of S and D; x_s, x_d = R x_c + t + delta (eq. 1); motion field + occlusion from (x_s, x_d);
warp f_s; generate. Parameter count of the `paper` config: see tests/unit/models/test_osfv.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from talkingub.errors import ConfigError
from talkingub.models.base import Batch, SynthesisModel
from talkingub.models.registry import register_model
from talkingub.zoo.osfv.appearance import AppearanceFeatureExtractor
from talkingub.zoo.osfv.config import OSFVConfig
from talkingub.zoo.osfv.discriminator import MultiScaleDiscriminator
from talkingub.zoo.osfv.generator import ImageGenerator
from talkingub.zoo.osfv.keypoint_motion import KeypointMotion, KeypointState
from talkingub.zoo.osfv.motion_field import MotionFieldEstimator, warp_volume
from talkingub.zoo.osfv.objective import Objective, total

CONFIG_DIR = Path(__file__).parent / "configs"


def relative_keypoints(
    src: torch.Tensor, drv: torch.Tensor, drv_first: torch.Tensor
) -> torch.Tensor:
    """Relative motion transfer: x_s + (x_d,t - x_d,0) (FOMM/OSFV demo convention)."""
    return src + (drv - drv_first)


def check_mode(mode: str, modes: tuple[str, ...]) -> None:
    if mode not in modes:
        raise ConfigError(f"animate mode {mode!r} is not one of {list(modes)}")


@register_model("osfv", OSFVConfig, CONFIG_DIR)
class OSFV(SynthesisModel):
    animate_modes = ("relative", "absolute")

    def __init__(self, config: OSFVConfig) -> None:
        super().__init__(config)
        self.appearance = AppearanceFeatureExtractor(config)
        self.motion = KeypointMotion(config)
        self.motion_field = MotionFieldEstimator(config)
        self.generator = ImageGenerator(config)
        self.discriminator = MultiScaleDiscriminator(config.discriminator)
        self.objective = Objective(config)
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        disc = {id(p) for p in self.discriminator.parameters()}
        gen = [p for p in self.parameters() if p.requires_grad and id(p) not in disc]
        return {"generator": gen, "discriminator": list(self.discriminator.parameters())}

    def render(
        self, volume: torch.Tensor, kp_src: torch.Tensor, kp_drv: torch.Tensor
    ) -> torch.Tensor:
        field = self.motion_field(volume, kp_src, kp_drv)
        return self.generator(warp_volume(volume, field.flow), field.occlusion)

    # --- training -------------------------------------------------------------------------
    def generator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        source, driving = batch["source"], batch["driving"]
        canonical = self.motion.detector(source)
        src, drv = self.motion.observe(canonical, source), self.motion.observe(canonical, driving)
        pred = self.render(self.appearance(source), src.keypoints, drv.keypoints)
        self._last = (pred.detach(), driving)
        losses = self.objective.image_terms(pred, driving, self.discriminator)
        losses.update(
            self.motion.regularizers(drv, driving, self.config.loss, self.config.equivariance)
        )
        losses.update(self.objective.head_pose(drv.pose, driving))
        out = {**losses, "total": total(losses)}
        out["l1"] = (pred.detach() - driving).abs().mean()
        return out

    def discriminator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        if self._last is None or not self.config.loss.generator_gan:
            return {}
        terms = self.objective.discriminator_terms(*self._last, self.discriminator)
        return {**terms, "total": total(terms)}

    # --- inference ------------------------------------------------------------------------
    def reconstruct(
        self, source: torch.Tensor, driving: torch.Tensor, **extra: Any
    ) -> torch.Tensor:
        """Same identity: the driving pose and expression applied to the source's keypoints."""
        return self.animate(source, driving, mode="absolute", **extra)

    def animate(
        self, source: torch.Tensor, driving: torch.Tensor, mode: str = "relative", **extra: Any
    ) -> torch.Tensor:
        check_mode(mode, self.animate_modes)
        canonical = self.motion.detector(source)
        src = self.motion.observe(canonical, source)
        volume = self.appearance(source)
        first: KeypointState | None = None
        frames = []
        for t in range(driving.shape[1]):
            drv = self.motion.observe(canonical, driving[:, t])
            if first is None:
                first = drv
            kp = drv.keypoints
            if mode == "relative":
                kp = relative_keypoints(src.keypoints, kp, first.keypoints)
            frames.append(self.render(volume, src.keypoints, kp))
        return torch.stack(frames, dim=1)
