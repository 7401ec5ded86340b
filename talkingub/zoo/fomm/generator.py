"""FOMM occlusion-aware generator: Johnson-style encoder, feature warping by the dense motion,
occlusion masking, residual bottleneck and decoder
(first-order-model@modules/generator.py, paper Sec. 3.2)."""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from talkingub.zoo.fomm.config import DenseMotionConfig, GeneratorConfig
from talkingub.zoo.fomm.dense_motion import DenseMotionNetwork
from talkingub.zoo.fomm.keypoint_detector import Keypoints
from talkingub.zoo.keypoint_common.blocks import DownBlock2d, ResBlock2d, SameBlock2d, UpBlock2d
from talkingub.zoo.keypoint_common.geometry import resize_like, warp
from talkingub.zoo.keypoint_common.hourglass import level_channels


class OcclusionAwareGenerator(nn.Module):
    def __init__(
        self,
        num_kp: int,
        num_channels: int,
        cfg: GeneratorConfig,
        dense_cfg: DenseMotionConfig,
        align_corners: bool,
    ) -> None:
        super().__init__()
        self.align_corners = align_corners
        self.dense_motion_network = DenseMotionNetwork(
            num_kp, num_channels, dense_cfg, cfg.estimate_occlusion_map, align_corners
        )
        ch = [
            level_channels(cfg.block_expansion, cfg.max_features, i)
            for i in range(cfg.num_down_blocks + 1)
        ]
        self.first = SameBlock2d(num_channels, ch[0], kernel=7)
        self.down_blocks = nn.ModuleList(DownBlock2d(a, b) for a, b in pairwise(ch))
        self.bottleneck = nn.Sequential(
            *(ResBlock2d(ch[-1]) for _ in range(cfg.num_bottleneck_blocks))
        )
        self.up_blocks = nn.ModuleList(UpBlock2d(a, b) for a, b in pairwise(ch[::-1]))
        self.final = nn.Conv2d(ch[0], num_channels, 7, padding=3)

    def forward(
        self, source: torch.Tensor, kp_source: Keypoints, kp_driving: Keypoints
    ) -> dict[str, torch.Tensor]:
        out = self.first(source)
        for block in self.down_blocks:
            out = block(out)
        motion = self.dense_motion_network(source, kp_source, kp_driving)
        corners = self.align_corners
        out = warp(out, motion["deformation"], align_corners=corners)
        if "occlusion_map" in motion:
            out = out * resize_like(motion["occlusion_map"], out, align_corners=corners)
        out = self.bottleneck(out)
        for block in self.up_blocks:
            out = block(out)
        motion["deformed"] = warp(source, motion["deformation"], align_corners=corners)
        motion["prediction"] = torch.sigmoid(self.final(out))
        return motion
