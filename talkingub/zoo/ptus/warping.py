"""Coarse-to-fine 3D-aware warping (PTUS eq. 8-9).

A first motion-field network (OSFV's dense motion network) turns the large-scale motion of
all keypoint sets into w_init; the source volume f_s is sampled at C_init = w_init(C_std) to
give f_init (eq. 8). A second network of the same architecture takes f_init and the local
face motion, predicts w_re, and f_init is sampled at C_re to give f_re (eq. 9). The occlusion
map comes from the first network (it sees the whole upper body); the second has none. Both
volumes are returned: the face/body fusion (fusion.py) combines them before decoding.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from talkingub.zoo.osfv.motion_field import MotionFieldEstimator, warp_volume
from talkingub.zoo.ptus.config import PTUSConfig
from talkingub.zoo.ptus.decomposition import WarpPlan


@dataclasses.dataclass
class Warped:
    """f_init (eq. 8), f_re (eq. 9; None without refinement) and the occlusion map."""

    initial: torch.Tensor
    refined: torch.Tensor | None
    occlusion: torch.Tensor | None

    @property
    def final(self) -> torch.Tensor:
        """The most refined volume: f_re, or f_init without refinement."""
        return self.initial if self.refined is None else self.refined


class CoarseToFineWarping(nn.Module):
    def __init__(self, config: PTUSConfig, coarse_kp: int, refine_kp: int | None) -> None:
        super().__init__()
        self.coarse = MotionFieldEstimator(config, num_kp=coarse_kp)
        self.refine: MotionFieldEstimator | None = None
        if refine_kp:
            no_occlusion = dataclasses.replace(config, estimate_occlusion=False)
            self.refine = MotionFieldEstimator(no_occlusion, num_kp=refine_kp)

    def forward(self, volume: torch.Tensor, plan: WarpPlan) -> Warped:
        coarse = self.coarse(volume, plan.coarse_src, plan.coarse_drv)
        initial = warp_volume(volume, coarse.flow)  # eq. 8
        refined = None
        if self.refine is not None and plan.refine_src is not None and plan.refine_drv is not None:
            fine = self.refine(initial, plan.refine_src, plan.refine_drv)
            refined = warp_volume(initial, fine.flow)  # eq. 9
        return Warped(initial, refined, coarse.occlusion)
