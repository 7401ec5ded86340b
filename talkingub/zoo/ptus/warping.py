"""Coarse-to-fine 3D-aware warping (PTUS eq. 8-9).

A first motion-field network (OSFV's dense motion network) turns the large-scale motion of
all keypoint sets into w_init; the source volume f_s is sampled at C_init = w_init(C_std) to
give f_init (eq. 8). A second network of the same architecture takes f_init and the local
face motion, predicts w_re, and f_init is sampled at C_re to give f_re (eq. 9). The occlusion
map comes from the first network (it sees the whole upper body); the second has none.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from talkingub.zoo.osfv.motion_field import MotionFieldEstimator, warp_volume
from talkingub.zoo.ptus.config import PTUSConfig
from talkingub.zoo.ptus.decomposition import WarpPlan


class CoarseToFineWarping(nn.Module):
    def __init__(self, config: PTUSConfig, coarse_kp: int, refine_kp: int | None) -> None:
        super().__init__()
        self.coarse = MotionFieldEstimator(config, num_kp=coarse_kp)
        self.refine: MotionFieldEstimator | None = None
        if refine_kp:
            no_occlusion = dataclasses.replace(config, estimate_occlusion=False)
            self.refine = MotionFieldEstimator(no_occlusion, num_kp=refine_kp)

    def forward(
        self, volume: torch.Tensor, plan: WarpPlan
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Warped volume (f_re, or f_init without refinement) and the occlusion map."""
        coarse = self.coarse(volume, plan.coarse_src, plan.coarse_drv)
        warped = warp_volume(volume, coarse.flow)  # eq. 8
        if self.refine is not None and plan.refine_src is not None and plan.refine_drv is not None:
            fine = self.refine(warped, plan.refine_src, plan.refine_drv)
            warped = warp_volume(warped, fine.flow)  # eq. 9
        return warped, coarse.occlusion
