"""Band-limited downsampling: Gaussian blur then nearest subsampling.

Kernel rule from first-order-model@modules/util.py (AntiAliasInterpolation2d):
sigma = (1/scale - 1) / 2, kernel size = 2 * round(4 * sigma) + 1, normalised to sum 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def gaussian_kernel(scale: float) -> torch.Tensor:
    sigma = (1.0 / scale - 1.0) / 2.0
    size = 2 * round(sigma * 4) + 1
    taps = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    one_d = torch.exp(-(taps**2) / (2 * sigma**2))
    kernel = one_d[:, None] * one_d[None, :]
    return kernel / kernel.sum()


class AntiAliasDownsample(nn.Module):
    def __init__(self, channels: int, scale: float) -> None:
        super().__init__()
        self.scale = scale
        self.channels = channels
        kernel = gaussian_kernel(scale) if scale != 1.0 else torch.ones(1, 1)
        self.pad = kernel.shape[-1] // 2
        weight = kernel.view(1, 1, *kernel.shape).repeat(channels, 1, 1, 1)
        self.weight: torch.Tensor
        self.register_buffer("weight", weight, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scale == 1.0:
            return x
        out = F.conv2d(F.pad(x, [self.pad] * 4), self.weight.to(x.dtype), groups=self.channels)
        return F.interpolate(out, scale_factor=self.scale, mode="nearest")
