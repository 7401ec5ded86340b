"""Appearance feature extractor F ([P] Sec. 3.1): source image -> 3-D feature volume f_s.

[R] src/modules/appearance_feature_extractor.py: 3x3 conv block (3 -> 64), two down blocks
(64 -> 128 -> 256, 2x2 pooling), 1x1 conv to 512 channels, reshaped to 32 x 16 (C x D), six
3-D residual blocks; 256x256 in -> [B, 32, 16, 64, 64].
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from talkingub.zoo.liveportrait.config import AppearanceConfig
from talkingub.zoo.liveportrait.layers import ConvBlock2d, DownConv2d, ResBlock3d


class AppearanceExtractor(nn.Module):
    def __init__(self, config: AppearanceConfig) -> None:
        super().__init__()
        self.config = config
        exp, top = config.block_expansion, config.max_features
        self.stem = ConvBlock2d(3, exp)
        widths = [min(top, exp * 2**i) for i in range(config.num_down_blocks + 1)]
        self.down = nn.ModuleList(DownConv2d(a, b) for a, b in pairwise(widths))
        self.project = nn.Conv2d(widths[-1], top, 1)
        self.res3d = nn.Sequential(
            *(ResBlock3d(config.reshape_channel) for _ in range(config.num_resblocks))
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """image [B, 3, H, W] in [0, 1] -> volume [B, C, D, H / 4, W / 4]."""
        out = self.stem(image)
        for block in self.down:
            out = block(out)
        out = self.project(out)
        b, _, h, w = out.shape
        volume = out.reshape(b, self.config.reshape_channel, self.config.reshape_depth, h, w)
        return self.res3d(volume)
