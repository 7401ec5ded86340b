"""Convolution blocks shared by LivePortrait's appearance extractor and warping module.

Layer facts ([R] = KwaiVGI/LivePortrait@1986663b, src/modules/util.py): 2-D blocks are
conv -> BatchNorm -> ReLU (LeakyReLU where asked), down-sampling by 2x2 average pooling; 3-D
residual blocks are pre-activation (BN -> ReLU -> conv, twice) with an identity skip; the
hourglass's 3-D blocks pool / up-sample in H and W only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ConvBlock2d(nn.Module):
    """conv(k) -> BatchNorm -> ReLU / LeakyReLU, same spatial size."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, leaky: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2)
        self.norm = nn.BatchNorm2d(cout)
        self.leaky = leaky

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.norm(self.conv(x))
        return F.leaky_relu(out) if self.leaky else F.relu(out)


class DownConv2d(ConvBlock2d):
    """ConvBlock2d followed by 2x2 average pooling."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(super().forward(x), 2)


class ResBlock3d(nn.Module):
    """x + conv(relu(bn(conv(relu(bn(x)))))), channels kept."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm3d(channels)
        self.conv1 = nn.Conv3d(channels, channels, 3, padding=1)
        self.norm2 = nn.BatchNorm3d(channels)
        self.conv2 = nn.Conv3d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.norm1(x)))
        return x + self.conv2(F.relu(self.norm2(out)))


class ConvBlock3d(nn.Module):
    """conv3d(3) -> BatchNorm -> ReLU, with optional (1, 2, 2) pooling after or up-sampling
    before (nearest)."""

    def __init__(self, cin: int, cout: int, resample: str = "") -> None:
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, 3, padding=1)
        self.norm = nn.BatchNorm3d(cout)
        self.resample = resample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.resample == "up":
            x = F.interpolate(x, scale_factor=(1.0, 2.0, 2.0))
        out = F.relu(self.norm(self.conv(x)))
        if self.resample == "down":
            out = F.avg_pool3d(out, (1, 2, 2))
        return out


class Hourglass3d(nn.Module):
    """U-Net over a 3-D volume: `num_blocks` down blocks, as many up blocks with skips, then a
    conv -> BN -> ReLU over [up path, input] ([R] util.Hourglass / Encoder / Decoder)."""

    def __init__(self, expansion: int, cin: int, num_blocks: int, max_features: int) -> None:
        super().__init__()

        def width(i: int) -> int:
            return min(max_features, expansion * 2**i)

        self.down = nn.ModuleList(
            ConvBlock3d(cin if i == 0 else width(i), width(i + 1), "down")
            for i in range(num_blocks)
        )
        ups = []
        for i in reversed(range(num_blocks)):
            factor = 1 if i == num_blocks - 1 else 2
            ups.append(ConvBlock3d(factor * width(i + 1), width(i), "up"))
        self.up = nn.ModuleList(ups)
        self.out_channels = expansion + cin
        self.out_conv = nn.Conv3d(self.out_channels, self.out_channels, 3, padding=1)
        self.out_norm = nn.BatchNorm3d(self.out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [x]
        for block in self.down:
            skips.append(block(skips[-1]))
        out = skips.pop()
        for block in self.up:
            out = torch.cat([block(out), skips.pop()], dim=1)
        return F.relu(self.out_norm(self.out_conv(out)))
