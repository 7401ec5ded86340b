"""Convolution blocks of the FOMM-family hourglasses and generators.

FOMM and MRAA normalise with (synchronised) BatchNorm
(AliaksandrSiarohin/first-order-model@modules/util.py); TPSMM uses affine InstanceNorm
(yoyo-nb/Thin-Plate-Spline-Motion-Model@modules/util.py). Both have 2*C affine parameters.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Norm = Literal["batch", "instance"]


def make_norm(kind: Norm, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels, affine=True)
    return nn.InstanceNorm2d(channels, affine=True)


class SameBlock2d(nn.Module):
    """conv -> norm -> ReLU at constant resolution."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, norm: Norm = "batch") -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2)
        self.norm = make_norm(norm, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.conv(x)))


class DownBlock2d(SameBlock2d):
    """conv -> norm -> ReLU -> 2x2 average pooling."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(super().forward(x), 2)


class UpBlock2d(SameBlock2d):
    """2x nearest upsampling -> conv -> norm -> ReLU."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class ResBlock2d(nn.Module):
    """Pre-activation residual block: (norm -> ReLU -> conv) twice, plus the input."""

    def __init__(self, channels: int, kernel: int = 3, norm: Norm = "batch") -> None:
        super().__init__()
        self.norm1 = make_norm(norm, channels)
        self.conv1 = nn.Conv2d(channels, channels, kernel, padding=kernel // 2)
        self.norm2 = make_norm(norm, channels)
        self.conv2 = nn.Conv2d(channels, channels, kernel, padding=kernel // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.norm1(x)))
        return x + self.conv2(F.relu(self.norm2(out)))
