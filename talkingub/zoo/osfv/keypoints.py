"""Canonical 3-D keypoint detector x_c = F_kp(S) (OSFV Sec. 3.1; PTUS eq. 1).

A 2-D encoder on the image down-sampled by `scale_factor`, a 1x1 conv whose channels are
reshaped into a 3-D volume, a 3-D decoder, then one softmax heatmap per keypoint whose
expected coordinate is the keypoint (no Jacobians: `estimate_jacobian: False` in
zhanglonghao1992/One-Shot_Free-View_Neural_Talking_Head_Synthesis@config/vox-256.yaml).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.zoo.osfv.blocks import AntiAliasDownsample, DownBlock2d, UpBlock3d, coordinate_grid
from talkingub.zoo.osfv.config import OSFVConfig


class CanonicalKeypointDetector(nn.Module):
    def __init__(self, config: OSFVConfig) -> None:
        super().__init__()
        kp = config.keypoints
        n = kp.num_blocks
        widths = [min(kp.max_features, kp.expansion * 2**i) for i in range(n + 1)]
        self.downsample = AntiAliasDownsample(3, kp.scale_factor)
        self.encoder = nn.Sequential(
            *(DownBlock2d(3 if i == 0 else widths[i], widths[i + 1]) for i in range(n))
        )
        self.to_volume = nn.Conv2d(widths[-1], kp.reshape_channels, 1)
        self.depth = kp.reshape_depth
        ups = [
            UpBlock3d(
                widths[n - i] if i else kp.reshape_channels // kp.reshape_depth, widths[n - i - 1]
            )
            for i in range(n)
        ]
        self.decoder = nn.Sequential(*ups)
        self.heatmap = nn.Conv3d(widths[0], config.num_kp, 3, padding=1)
        self.temperature = kp.temperature

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] -> canonical keypoints [B, K, 3] as (x, y, z) in [-1, 1]."""
        flat = self.to_volume(self.encoder(self.downsample(image)))
        b, c, h, w = flat.shape
        volume = self.decoder(flat.view(b, c // self.depth, self.depth, h, w))
        logits = self.heatmap(volume)
        _, k, d, hh, ww = logits.shape
        prob = F.softmax(logits.flatten(2) / self.temperature, dim=2).view(b, k, d, hh, ww, 1)
        grid = coordinate_grid(d, hh, ww, logits)
        return (prob * grid).sum(dim=(2, 3, 4))
