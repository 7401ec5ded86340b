"""Image generator: warped 3-D features -> 2-D projection -> occlusion -> decoder (OSFV Sec. 3.2).

The warped volume is flattened over depth (C * D channels), projected by a 3x3 conv
(LeakyReLU) and a 1x1 conv, multiplied by the occlusion map, refined by six 2-D residual
blocks and decoded by two up-sampling blocks and a 7x7 conv with a sigmoid
(zhanglonghao1992/One-Shot_Free-View_Neural_Talking_Head_Synthesis@modules/generator.py,
OcclusionAwareGenerator: the original, non-SPADE generator).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.zoo.osfv.blocks import ConvNormAct2d, ResBlock, UpBlock2d
from talkingub.zoo.osfv.config import OSFVConfig


class ImageGenerator(nn.Module):
    def __init__(self, config: OSFVConfig) -> None:
        super().__init__()
        app = config.appearance
        n = app.num_down_blocks
        width = app.expansion * 2**n
        self.project = nn.Sequential(
            ConvNormAct2d(app.max_features, width, kernel=3, leaky=True), nn.Conv2d(width, width, 1)
        )
        self.resblocks = nn.Sequential(*(ResBlock(width, dims=2) for _ in range(app.num_resblocks)))
        ups = [
            UpBlock2d(app.expansion * 2 ** (n - i), app.expansion * 2 ** (n - i - 1))
            for i in range(n)
        ]
        self.up = nn.Sequential(*ups)
        self.final = nn.Conv2d(app.expansion, 3, 7, padding=3)

    def forward(self, warped: torch.Tensor, occlusion: torch.Tensor | None) -> torch.Tensor:
        """warped [B, C, D, h, w], occlusion [B, 1, h', w'] or None -> [B, 3, H, W] in [0, 1]."""
        out = self.project(warped.flatten(1, 2))
        if occlusion is not None:
            if occlusion.shape[-2:] != out.shape[-2:]:
                occlusion = F.interpolate(occlusion, size=out.shape[-2:], mode="bilinear")
            out = out * occlusion
        return torch.sigmoid(self.final(self.up(self.resblocks(out))))
