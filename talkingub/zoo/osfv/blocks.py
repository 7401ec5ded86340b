"""Convolution blocks and coordinate helpers shared by the OSFV (face-vid2vid) components.

Layer conventions follow the public face-vid2vid reimplementation
(zhanglonghao1992/One-Shot_Free-View_Neural_Talking_Head_Synthesis@modules/util.py):
batch-normalised conv blocks, 3-D down-sampling only in H and W, pre-activation residual
blocks, nearest up-sampling for 2-D decoders and trilinear (1, 2, 2) up-sampling for 3-D ones.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def coordinate_grid(depth: int, height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """[D, H, W, 3] grid of (x, y, z) in [-1, 1], the layout `grid_sample` expects."""
    axes = [
        torch.linspace(-1.0, 1.0, n, dtype=like.dtype, device=like.device)
        for n in (depth, height, width)
    ]
    z, y, x = torch.meshgrid(*axes, indexing="ij")
    return torch.stack([x, y, z], dim=-1)


def coordinate_grid_2d(height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """[H, W, 2] grid of (x, y) in [-1, 1]."""
    return coordinate_grid(1, height, width, like)[0, ..., :2]


class ConvNormAct2d(nn.Sequential):
    """conv -> BatchNorm -> ReLU (LeakyReLU where asked); keeps the spatial size."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, leaky: bool = False) -> None:
        act: nn.Module = nn.LeakyReLU() if leaky else nn.ReLU()
        super().__init__(
            nn.Conv2d(cin, cout, kernel, padding=kernel // 2), nn.BatchNorm2d(cout), act
        )


class DownBlock2d(nn.Sequential):
    """conv -> BatchNorm -> ReLU -> 2x2 average pooling."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.AvgPool2d(2)
        )


class UpBlock2d(nn.Module):
    """2x nearest up-sampling -> conv -> BatchNorm -> ReLU."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.conv(F.interpolate(x, scale_factor=2.0))))


class DownBlock3d(nn.Sequential):
    """3-D conv with stride (1, 2, 2) -> BatchNorm -> ReLU (depth is kept)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(
            nn.Conv3d(cin, cout, 3, padding=1, stride=(1, 2, 2)), nn.BatchNorm3d(cout), nn.ReLU()
        )


class UpBlock3d(nn.Module):
    """Trilinear (1, 2, 2) up-sampling -> 3-D conv -> BatchNorm -> ReLU."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, 3, padding=1)
        self.norm = nn.BatchNorm3d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(x, scale_factor=(1.0, 2.0, 2.0), mode="trilinear")
        return F.relu(self.norm(self.conv(up)))


class ResBlock(nn.Module):
    """Pre-activation residual block (BN -> ReLU -> conv, twice), 2-D or 3-D."""

    def __init__(self, channels: int, dims: int = 2) -> None:
        super().__init__()
        conv = nn.Conv2d if dims == 2 else nn.Conv3d
        norm = nn.BatchNorm2d if dims == 2 else nn.BatchNorm3d
        self.norm1, self.conv1 = norm(channels), conv(channels, channels, 3, padding=1)
        self.norm2, self.conv2 = norm(channels), conv(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.norm1(x)))
        return x + self.conv2(F.relu(self.norm2(out)))


class ResBottleneck(nn.Module):
    """1x1 -> 3x3 (optionally strided) -> 1x1 bottleneck with a width of channels / 4."""

    def __init__(self, channels: int, stride: int = 1) -> None:
        super().__init__()
        mid = channels // 4
        self.body = nn.Sequential(
            nn.Conv2d(channels, mid, 1), nn.BatchNorm2d(mid), nn.ReLU(),
            nn.Conv2d(mid, mid, 3, padding=1, stride=stride), nn.BatchNorm2d(mid), nn.ReLU(),
            nn.Conv2d(mid, channels, 1), nn.BatchNorm2d(channels),
        )  # fmt: skip
        self.skip: nn.Module = nn.Identity()
        if stride != 1:
            self.skip = nn.Sequential(
                nn.Conv2d(channels, channels, 1, stride=stride), nn.BatchNorm2d(channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.skip(x))


class Hourglass3d(nn.Module):
    """3-D U-Net: `num_blocks` (1, 2, 2)-strided encoders, decoders with skip concatenation."""

    def __init__(self, cin: int, expansion: int, num_blocks: int, max_features: int) -> None:
        super().__init__()
        widths = [min(max_features, expansion * 2 ** (i + 1)) for i in range(num_blocks)]
        ins = [cin, *widths[:-1]]
        self.down = nn.ModuleList(DownBlock3d(a, b) for a, b in zip(ins, widths))
        ups = []
        for i in reversed(range(num_blocks)):
            up_in = widths[i] * (1 if i == num_blocks - 1 else 2)
            ups.append(UpBlock3d(up_in, min(max_features, expansion * 2**i)))
        self.up = nn.ModuleList(ups)
        self.out_channels = expansion + cin
        self.out = nn.Sequential(
            nn.Conv3d(self.out_channels, self.out_channels, 3, padding=1),
            nn.BatchNorm3d(self.out_channels),
            nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [x]
        for block in self.down:
            skips.append(block(skips[-1]))
        out = skips.pop()
        for block in self.up:
            out = torch.cat([block(out), skips.pop()], dim=1)
        return self.out(out)


class AntiAliasDownsample(nn.Module):
    """Gaussian blur then integer-stride subsampling (FOMM's band-limited down-sampling)."""

    kernel: torch.Tensor

    def __init__(self, channels: int, scale: float) -> None:
        super().__init__()
        self.scale = scale
        self.stride = max(1, round(1.0 / scale))
        sigma = max((1.0 / scale - 1.0) / 2.0, 1e-3)
        size = 2 * round(sigma * 4) + 1
        coords = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
        g = torch.exp(-(coords**2) / (2 * sigma**2))
        kernel = torch.outer(g, g)
        kernel = (kernel / kernel.sum()).expand(channels, 1, size, size).clone()
        self.register_buffer("kernel", kernel, persistent=False)
        self.pad = size // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scale == 1.0:
            return x
        out = F.conv2d(F.pad(x, [self.pad] * 4, mode="replicate"), self.kernel, groups=x.shape[1])
        return out[:, :, :: self.stride, :: self.stride]
