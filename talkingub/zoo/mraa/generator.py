"""MRAA generator: the FOMM encoder/bottleneck/decoder with, when `skips`, the warped and
occlusion-masked encoder features blended into every decoder level and the warped source blended
into the output (articulated-animation@modules/generator.py)."""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from talkingub.zoo.keypoint_common.blocks import DownBlock2d, ResBlock2d, SameBlock2d, UpBlock2d
from talkingub.zoo.keypoint_common.geometry import resize_like, warp
from talkingub.zoo.keypoint_common.hourglass import level_channels
from talkingub.zoo.mraa.config import GeneratorConfig, PixelwiseFlowConfig
from talkingub.zoo.mraa.pixelwise_flow import PixelwiseFlowPredictor
from talkingub.zoo.mraa.region_predictor import Regions


def apply_optical(
    skip: torch.Tensor,
    motion: dict[str, torch.Tensor],
    previous: torch.Tensor | None = None,
    *,
    align_corners: bool,
) -> torch.Tensor:
    """Warp `skip`; with an occlusion map O: O * warped + (1 - O) * previous (or O * warped)."""
    warped = warp(skip, motion["optical_flow"], align_corners=align_corners)
    if "occlusion_map" not in motion:
        return warped
    occ = resize_like(motion["occlusion_map"], warped, align_corners=align_corners)
    return warped * occ if previous is None else warped * occ + previous * (1 - occ)


class Generator(nn.Module):
    def __init__(
        self,
        num_regions: int,
        num_channels: int,
        cfg: GeneratorConfig,
        flow_cfg: PixelwiseFlowConfig,
        revert_axis_swap: bool,
        align_corners: bool,
    ) -> None:
        super().__init__()
        self.skips = cfg.skips
        self.align_corners = align_corners
        self.pixelwise_flow_predictor = PixelwiseFlowPredictor(
            num_regions, num_channels, flow_cfg, revert_axis_swap, align_corners
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
        self, image: torch.Tensor, source: Regions, driving: Regions, bg: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        skips = [self.first(image)]
        for block in self.down_blocks:
            skips.append(block(skips[-1]))
        motion = self.pixelwise_flow_predictor(image, source, driving, bg)
        corners = self.align_corners
        out = self.bottleneck(apply_optical(skips[-1], motion, align_corners=corners))
        for i, block in enumerate(self.up_blocks):
            if self.skips:
                out = apply_optical(skips[-(i + 1)], motion, out, align_corners=corners)
            out = block(out)
        if self.skips:
            out = apply_optical(skips[0], motion, out, align_corners=corners)
        out = torch.sigmoid(self.final(out))
        if self.skips:
            out = apply_optical(image, motion, out, align_corners=corners)
        motion["deformed"] = warp(image, motion["optical_flow"], align_corners=corners)
        motion["prediction"] = out
        return motion
