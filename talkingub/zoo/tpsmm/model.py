"""TPSMM behind the model registry: ResNet-18 keypoint detector (K TPS x 5 points), background
predictor, dense motion network, inpainting network, AVD (own `avd` optimiser group)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from talkingub.models.base import Batch, SynthesisModel
from talkingub.models.registry import register_model
from talkingub.zoo.keypoint_common.animation import animate_sequence, check_mode
from talkingub.zoo.keypoint_common.motion import movement_scale, relative_points
from talkingub.zoo.keypoint_common.training import LazyPerceptual, build_adam, sum_losses
from talkingub.zoo.tpsmm.avd import KeypointAVD, avd_losses
from talkingub.zoo.tpsmm.bg_motion_predictor import BGMotionPredictor
from talkingub.zoo.tpsmm.config import TPSMMConfig
from talkingub.zoo.tpsmm.dense_motion import DenseMotionNetwork
from talkingub.zoo.tpsmm.inpainting import InpaintingNetwork
from talkingub.zoo.tpsmm.keypoint_detector import KeypointDetector
from talkingub.zoo.tpsmm.losses import background_loss, equivariance_loss, warp_loss


@register_model("tpsmm", TPSMMConfig, Path(__file__).parent / "configs")
class TPSMM(SynthesisModel):
    animate_modes = ("relative", "absolute", "avd")

    def __init__(self, config: TPSMMConfig) -> None:
        super().__init__(config)
        c = config
        self.kp_detector = KeypointDetector(
            c.num_tps, c.points_per_tps, c.num_channels, c.encoder.width
        )
        self.bg_predictor = BGMotionPredictor(c.num_channels, c.encoder.width) if c.bg else None
        self.dense_motion_network = DenseMotionNetwork(
            c.num_tps,
            c.points_per_tps,
            c.num_channels,
            c.dense_motion,
            c.multi_mask,
            c.inpainting.num_down_blocks + 1,
            c.tps_regularisation,
            c.align_corners,
        )
        self.inpainting_network = InpaintingNetwork(
            c.num_channels, c.inpainting, c.multi_mask, c.align_corners
        )
        self.avd_network = KeypointAVD(c.num_tps * c.points_per_tps, c.avd)
        self.perceptual = LazyPerceptual(
            c.perceptual, c.perceptual_scales, c.loss_weights.perceptual, c.pyramid_downsample
        )
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """The TPS dropout schedule and the background start depend on the training epoch."""
        self.epoch = epoch

    def motion_modules(self) -> list[nn.Module]:
        """The modules whose gradients train.py clips (keypoints, dense motion, background)."""
        mods: list[nn.Module] = [self.kp_detector, self.dense_motion_network]
        return mods + ([self.bg_predictor] if self.bg_predictor is not None else [])

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """`generator`: the networks train.py optimises; `avd`: the AVD network, which the
        bench trains in the same loop from step 0 rather than as train_avd.py's later stage
        (see `AVDConfig`)."""
        main = [
            p for m in [*self.motion_modules(), self.inpainting_network] for p in m.parameters()
        ]
        return {"generator": main, "avd": list(self.avd_network.parameters())}

    # --- training -------------------------------------------------------------------------
    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam per group: `config.optim` for the networks, `config.avd` for the AVD network."""
        return build_adam(self.parameter_groups(), self.config.optim, self.config.avd)

    def losses(self, group: str, batch: Batch) -> dict[str, torch.Tensor]:
        """The generator group as usual; `avd`: the AVD stage (after the generator)."""
        return self.avd_losses(batch) if group == "avd" else super().losses(group, batch)

    def clip_gradients(self) -> None:
        """train.py: infinity-norm clipping of the motion modules' gradients."""
        limit = self.config.optim.grad_clip_inf_norm
        if limit > 0:
            for module in self.motion_modules():
                nn.utils.clip_grad_norm_(module.parameters(), limit, norm_type=math.inf)

    def generator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        source, driving = batch["source"], batch["driving"]
        c, w = self.config, self.config.loss_weights
        kp_s, kp_d = self.kp_detector(source), self.kp_detector(driving)
        use_bg = self.bg_predictor is not None and self.epoch >= c.bg_start
        bg = self.bg_predictor(source, driving) if use_bg and self.bg_predictor else None
        motion = self.dense_motion_network(
            source, kp_s, kp_d, bg, c.dropout.probability(self.epoch)
        )
        out = self.inpainting_network(source, motion)
        pred: torch.Tensor = out["prediction"]
        losses: dict[str, torch.Tensor] = {}
        if c.perceptual != "off" and sum(w.perceptual) > 0:
            losses["perceptual"] = self.perceptual(pred, driving)
        if w.equivariance_value:
            losses["equivariance_value"] = w.equivariance_value * equivariance_loss(
                self.kp_detector, driving, kp_d, c.transform, c.align_corners
            )
        if w.warp_loss:
            losses["warp_loss"] = w.warp_loss * warp_loss(
                self.inpainting_network,
                driving,
                motion["occlusion_map"],
                out["warped_encoder_maps"],
            )
        if bg is not None and self.bg_predictor is not None and w.bg:
            losses["bg"] = w.bg * background_loss(self.bg_predictor, source, driving, bg)
        losses["total"] = sum_losses(losses, pred)
        losses["l1"] = (pred - driving).abs().mean().detach()  # monitoring only
        return losses

    def avd_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            kp_s, kp_d = self.kp_detector(batch["source"]), self.kp_detector(batch["driving"])
        return avd_losses(self.avd_network, kp_s, kp_d, self.config.avd)

    # --- inference ------------------------------------------------------------------------
    def reconstruct(
        self, source: torch.Tensor, driving: torch.Tensor, **extra: Any
    ) -> torch.Tensor:
        """reconstruction.py: driving keypoints as they are, plus the background motion."""
        return self._animate(source, driving, "absolute", with_background=True)

    def animate(
        self, source: torch.Tensor, driving: torch.Tensor, mode: str = "relative", **extra: Any
    ) -> torch.Tensor:
        check_mode(mode, self.animate_modes, "tpsmm")
        return self._animate(source, driving, mode, with_background=False)

    def _animate(
        self, source: torch.Tensor, driving: torch.Tensor, mode: str, with_background: bool
    ) -> torch.Tensor:
        def render(
            src: torch.Tensor, kp_s: torch.Tensor, kp: torch.Tensor, frame: torch.Tensor
        ) -> torch.Tensor:
            bg = None
            if with_background and self.bg_predictor is not None:
                bg = self.bg_predictor(src, frame)
            motion = self.dense_motion_network(src, kp_s, kp, bg)
            return self.inpainting_network(src, motion)["prediction"]

        def transfer(kp_s: torch.Tensor, kp_d: torch.Tensor, kp_d0: torch.Tensor) -> torch.Tensor:
            return self.transfer_keypoints(kp_s, kp_d, kp_d0, mode)

        return animate_sequence(source, driving, self.kp_detector, transfer, render)

    def transfer_keypoints(
        self, kp_s: torch.Tensor, kp_d: torch.Tensor, kp_d0: torch.Tensor, mode: str
    ) -> torch.Tensor:
        """demo.py make_animation: standard (absolute), relative (adaptive scale) or avd."""
        if mode == "avd":
            return self.avd_network(kp_s, kp_d)
        if mode == "absolute":
            return kp_d
        return relative_points(kp_s, kp_d, kp_d0, movement_scale(kp_s, kp_d0))
