"""FOMM multi-scale patch discriminator (pix2pix-like, spectral norm, LSGAN)
(first-order-model@modules/discriminator.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from talkingub.zoo.fomm.config import DiscriminatorConfig
from talkingub.zoo.keypoint_common.antialias import AntiAliasDownsample
from talkingub.zoo.keypoint_common.hourglass import level_channels


class DiscriminatorBlock(nn.Module):
    """4x4 conv (no padding) -> InstanceNorm (not in the first block) -> LeakyReLU(0.2) -> pool."""

    def __init__(self, cin: int, cout: int, norm: bool, pool: bool, sn: bool) -> None:
        super().__init__()
        conv = nn.Conv2d(cin, cout, 4)
        self.conv = spectral_norm(conv) if sn else conv
        self.norm = nn.InstanceNorm2d(cout, affine=True) if norm else None
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        if self.norm is not None:
            out = self.norm(out)
        out = F.leaky_relu(out, 0.2)
        return F.avg_pool2d(out, 2) if self.pool else out


class Discriminator(nn.Module):
    def __init__(self, num_channels: int, cfg: DiscriminatorConfig) -> None:
        super().__init__()
        n = cfg.num_blocks
        ch = [num_channels] + [
            level_channels(cfg.block_expansion, cfg.max_features, i + 1) for i in range(n)
        ]
        self.blocks = nn.ModuleList(
            DiscriminatorBlock(ch[i], ch[i + 1], norm=i != 0, pool=i != n - 1, sn=cfg.sn)
            for i in range(n)
        )
        conv = nn.Conv2d(ch[-1], 1, 1)
        self.conv = spectral_norm(conv) if cfg.sn else conv

    def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return features, self.conv(x)


class MultiScaleDiscriminator(nn.Module):
    """One discriminator per image scale; returns (feature maps, prediction map) per scale."""

    def __init__(self, num_channels: int, cfg: DiscriminatorConfig) -> None:
        super().__init__()
        self.scales = cfg.scales
        self.discs = nn.ModuleList(Discriminator(num_channels, cfg) for _ in cfg.scales)
        self.downs = nn.ModuleList(AntiAliasDownsample(num_channels, s) for s in cfg.scales)

    def forward(self, image: torch.Tensor) -> list[tuple[list[torch.Tensor], torch.Tensor]]:
        return [disc(down(image)) for disc, down in zip(self.discs, self.downs)]
