"""SPADE decoder G ([P] Sec. 3.2): the warped feature map is both the input and, channel by
channel, the semantic map of every SPADE normalisation; a PixelShuffle last layer doubles the
resolution (256 -> 512).

Facts from [R] src/modules/spade_generator.py and util.py (SPADE, SPADEResnetBlock): 3x3 conv
C -> 2C; six SPADE residual blocks at 2C; nearest x2, block 2C -> C; nearest x2, block C -> 64;
LeakyReLU(0.2) -> 3x3 conv to 3 * 2 * 2 -> PixelShuffle(2) -> sigmoid. SPADE: parameter-free
InstanceNorm, the map resized (nearest) to the activation, shared 3x3 conv to 128 + ReLU, 3x3
convs to gamma and beta, x_norm * (1 + gamma) + beta. Residual block: spectral-normalised convs,
middle width min(in, out), learned 1x1 shortcut (no bias) when in != out, LeakyReLU(0.2).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from talkingub.zoo.liveportrait.config import DecoderConfig


class SPADE(nn.Module):
    def __init__(self, channels: int, label_channels: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels, affine=False)
        self.shared = nn.Conv2d(label_channels, hidden, 3, padding=1)
        self.gamma = nn.Conv2d(hidden, channels, 3, padding=1)
        self.beta = nn.Conv2d(hidden, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        seg = F.interpolate(segmap, size=x.shape[-2:], mode="nearest")
        act = F.relu(self.shared(seg))
        return self.norm(x) * (1 + self.gamma(act)) + self.beta(act)


class SPADEResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, label_channels: int, hidden: int) -> None:
        super().__init__()
        mid = min(cin, cout)
        self.norm_a = SPADE(cin, label_channels, hidden)
        self.conv_a = spectral_norm(nn.Conv2d(cin, mid, 3, padding=1))
        self.norm_b = SPADE(mid, label_channels, hidden)
        self.conv_b = spectral_norm(nn.Conv2d(mid, cout, 3, padding=1))
        self.skip: nn.Module | None = None
        self.norm_skip: SPADE | None = None
        if cin != cout:
            self.norm_skip = SPADE(cin, label_channels, hidden)
            self.skip = spectral_norm(nn.Conv2d(cin, cout, 1, bias=False))

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        shortcut = x
        if self.skip is not None and self.norm_skip is not None:
            shortcut = self.skip(self.norm_skip(x, segmap))
        dx = self.conv_a(F.leaky_relu(self.norm_a(x, segmap), 0.2))
        dx = self.conv_b(F.leaky_relu(self.norm_b(dx, segmap), 0.2))
        return shortcut + dx


class SPADEDecoder(nn.Module):
    NUM_MIDDLE = 6

    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        c = min(config.max_features, config.block_expansion * 2**config.num_down_blocks)
        hidden = config.spade_hidden
        self.head = nn.Conv2d(c, 2 * c, 3, padding=1)
        self.middle = nn.ModuleList(
            SPADEResBlock(2 * c, 2 * c, c, hidden) for _ in range(self.NUM_MIDDLE)
        )
        self.up = nn.ModuleList(
            [
                SPADEResBlock(2 * c, c, c, hidden),
                SPADEResBlock(c, config.out_channels, c, hidden),
            ]
        )
        factor = max(1, config.upscale)
        self.to_rgb = nn.Conv2d(config.out_channels, 3 * factor**2, 3, padding=1)
        self.shuffle = nn.PixelShuffle(factor) if factor > 1 else nn.Identity()

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """[B, C, h, w] -> image [B, 3, 4h * upscale, 4w * upscale] in (0, 1)."""
        x = self.head(features)
        for block in self.middle:
            x = block(x, features)
        for block in self.up:
            x = block(F.interpolate(x, scale_factor=2.0, mode="nearest"), features)
        x = self.shuffle(self.to_rgb(F.leaky_relu(x, 0.2)))
        return torch.sigmoid(x.float())
