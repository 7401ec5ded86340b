"""Appearance feature extractor: source image -> 3-D feature volume f_s (OSFV Sec. 3.1).

At 256 px with the paper sizes: 7x7 conv to 64 channels, two down-sampling blocks (to 64x64),
a 1x1 conv to 512 channels reshaped to 32 channels x depth 16, then six 3-D residual blocks
(zhanglonghao1992/One-Shot_Free-View_Neural_Talking_Head_Synthesis@modules/generator.py).
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from talkingub.zoo.osfv.blocks import ConvNormAct2d, DownBlock2d, ResBlock
from talkingub.zoo.osfv.config import OSFVConfig


class AppearanceFeatureExtractor(nn.Module):
    def __init__(self, config: OSFVConfig) -> None:
        super().__init__()
        app = config.appearance
        self.channels, self.depth = config.feature_channels, config.feature_depth
        widths = [
            min(app.max_features, app.expansion * 2**i) for i in range(app.num_down_blocks + 1)
        ]
        self.first = ConvNormAct2d(3, app.expansion, kernel=7)
        self.down = nn.Sequential(*(DownBlock2d(a, b) for a, b in itertools.pairwise(widths)))
        self.to_volume = nn.Conv2d(widths[-1], app.max_features, 1)
        self.resblocks = nn.Sequential(
            *(ResBlock(self.channels, dims=3) for _ in range(app.num_resblocks))
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] in [0, 1] -> [B, C, D, H/4, W/4]."""
        flat = self.to_volume(self.down(self.first(image)))
        b, _, h, w = flat.shape
        return self.resblocks(flat.view(b, self.channels, self.depth, h, w))
