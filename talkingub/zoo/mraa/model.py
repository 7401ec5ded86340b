"""MRAA behind the model registry: region predictor, background motion predictor, generator with
pixelwise flow, and the AVD network (its own `avd` optimiser group with train_avd.py's Adam
settings, trained in the main loop; see `AVDConfig`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from talkingub.models.base import Batch, SynthesisModel
from talkingub.models.registry import register_model
from talkingub.zoo.keypoint_common.animation import animate_sequence, check_mode
from talkingub.zoo.keypoint_common.equivariance import (
    RandomTPS,
    equivariance_jacobian_loss,
    equivariance_value_loss,
)
from talkingub.zoo.keypoint_common.motion import movement_scale, relative_jacobian, relative_points
from talkingub.zoo.keypoint_common.training import LazyPerceptual, build_adam, sum_losses
from talkingub.zoo.mraa.avd import RegionAVD, avd_losses
from talkingub.zoo.mraa.bg_motion_predictor import BGMotionPredictor
from talkingub.zoo.mraa.config import MRAAConfig
from talkingub.zoo.mraa.generator import Generator
from talkingub.zoo.mraa.region_predictor import RegionPredictor, Regions


@register_model("mraa", MRAAConfig, Path(__file__).parent / "configs")
class MRAA(SynthesisModel):
    animate_modes = ("relative", "absolute", "avd")

    def __init__(self, config: MRAAConfig) -> None:
        super().__init__(config)
        c = config
        self.region_predictor = RegionPredictor(c.num_regions, c.num_channels, c.region_predictor)
        self.bg_predictor = BGMotionPredictor(c.num_channels, c.bg_predictor)
        self.generator = Generator(
            c.num_regions,
            c.num_channels,
            c.generator,
            c.pixelwise_flow,
            c.revert_axis_swap,
            c.align_corners,
        )
        self.avd_network = RegionAVD(c.num_regions, c.avd, c.revert_axis_swap)
        self.perceptual = LazyPerceptual(
            c.perceptual, c.perceptual_scales, c.loss_weights.perceptual, c.pyramid_downsample
        )

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """`generator`: the reconstruction stage (train.py); `avd`: the AVD network, which the
        bench trains in the same loop from step 0 rather than as train_avd.py's later stage
        (see `AVDConfig`)."""
        main = [
            *self.region_predictor.parameters(),
            *self.bg_predictor.parameters(),
            *self.generator.parameters(),
        ]
        return {"generator": main, "avd": list(self.avd_network.parameters())}

    # --- training -------------------------------------------------------------------------
    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam per group: `config.optim` for the networks, `config.avd` for the AVD network."""
        return build_adam(self.parameter_groups(), self.config.optim, self.config.avd)

    def losses(self, group: str, batch: Batch) -> dict[str, torch.Tensor]:
        """The reconstruction groups as usual; `avd`: the AVD stage (after the generator)."""
        return self.avd_losses(batch) if group == "avd" else super().losses(group, batch)

    def generator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        source, driving = batch["source"], batch["driving"]
        w = self.config.loss_weights
        regions_s, regions_d = self.region_predictor(source), self.region_predictor(driving)
        bg = self.bg_predictor(source, driving)
        pred = self.generator(source, regions_s, regions_d, bg)["prediction"]
        losses: dict[str, torch.Tensor] = {}
        if self.config.perceptual != "off" and sum(w.perceptual) > 0:
            losses["perceptual"] = self.perceptual(pred, driving)
        losses.update(self.equivariance_losses(driving, regions_d))
        losses["total"] = sum_losses(losses, pred)
        losses["l1"] = (pred - driving).abs().mean().detach()  # monitoring only
        return losses

    def equivariance_losses(
        self, driving: torch.Tensor, regions: Regions
    ) -> dict[str, torch.Tensor]:
        w = self.config.loss_weights
        if not (w.equivariance_shift or w.equivariance_affine):
            return {}
        transform = RandomTPS(driving.shape[0], self.config.transform, kernel="l1", like=driving)
        deformed = transform.transform_frame(driving, align_corners=self.config.align_corners)
        moved = self.region_predictor(deformed)
        shift = equivariance_value_loss(regions["shift"], moved["shift"], transform)
        affine = equivariance_jacobian_loss(
            regions["affine"],
            moved["shift"],
            moved["affine"],
            transform,
            self.config.revert_axis_swap,
        )
        return {
            "equivariance_shift": w.equivariance_shift * shift,
            "equivariance_affine": w.equivariance_affine * affine,
        }

    def avd_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            regions_s = self.region_predictor(batch["source"])
            regions_d = self.region_predictor(batch["driving"])
        return avd_losses(self.avd_network, regions_s, regions_d, self.config.avd)

    # --- inference ------------------------------------------------------------------------
    def reconstruct(
        self, source: torch.Tensor, driving: torch.Tensor, **extra: Any
    ) -> torch.Tensor:
        """reconstruction.py: driving regions as they are, plus the predicted background motion."""
        return self._animate(source, driving, "absolute", with_background=True)

    def animate(
        self, source: torch.Tensor, driving: torch.Tensor, mode: str = "relative", **extra: Any
    ) -> torch.Tensor:
        check_mode(mode, self.animate_modes, "mraa")
        return self._animate(source, driving, mode, with_background=False)

    def _animate(
        self, source: torch.Tensor, driving: torch.Tensor, mode: str, with_background: bool
    ) -> torch.Tensor:
        def render(
            src: torch.Tensor, reg_s: Regions, reg: Regions, frame: torch.Tensor
        ) -> torch.Tensor:
            bg = self.bg_predictor(src, frame) if with_background else None
            return self.generator(src, reg_s, reg, bg)["prediction"]

        def transfer(reg_s: Regions, reg_d: Regions, reg_d0: Regions) -> Regions:
            return self.transfer_regions(reg_s, reg_d, reg_d0, mode)

        return animate_sequence(source, driving, self.region_predictor, transfer, render)

    def transfer_regions(
        self, reg_s: Regions, reg_d: Regions, reg_d0: Regions, mode: str
    ) -> Regions:
        """get_animation_region_params of animate.py: standard (absolute), relative or avd."""
        if mode == "avd":
            return self.avd_network(reg_s, reg_d)
        if mode == "absolute":
            return reg_d
        out = dict(reg_d)  # the covariance of the driving regions stays, as in the reference
        scale = movement_scale(reg_s["shift"], reg_d0["shift"])
        out["shift"] = relative_points(reg_s["shift"], reg_d["shift"], reg_d0["shift"], scale)
        out["affine"] = relative_jacobian(reg_s["affine"], reg_d["affine"], reg_d0["affine"])
        return out
