"""The image encoders and decoders of Head3D: E_H / Omega_H (Sec. 3.2) and E_F / Omega_F
(Sec. 3.3), "the architecture in [17] ... with 2 downsampling blocks" for both pairs.

[17] (Johnson et al., ECCV 2016, supplementary) is c9s1-32, d64, d128, R128 x 5, u64, u32,
c9s1-3: a 9x9 convolution, two stride-2 3x3 convolutions, five residual blocks of two 3x3
convolutions, two stride-1/2 (transposed) 3x3 convolutions and a 9x9 output convolution, each
followed by normalisation and ReLU. The split into encoder and decoder is ours: the encoder
ends after the two down-sampling blocks (its features h, e are what the ConvLSTM aggregates
and the fusion warps), the decoder starts with the residual blocks. Normalisation is instance
normalisation (the paper's choice for F_D's decoder, [43]); the output is a sigmoid image in
[0, 1] instead of [17]'s scaled tanh. `block_expansion` is [17]'s 32.
"""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.head3d.config import CodecConfig


def _conv(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2),
        nn.InstanceNorm2d(cout, affine=True),
        nn.ReLU(inplace=True),
    )


class ResidualBlock(nn.Module):
    """[17]'s residual block: conv-norm-ReLU-conv-norm plus the input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(channels, channels, 3),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ImageEncoder(nn.Module):
    """c9s1-w, d2w, d4w: image [B, in, H, W] -> features [B, 4w, H/4, W/4]."""

    def __init__(self, config: CodecConfig, in_channels: int = 3) -> None:
        super().__init__()
        w = config.block_expansion
        self.out_channels = 4 * w
        self.layers = nn.Sequential(
            _conv(in_channels, w, 9), _conv(w, 2 * w, 3, 2), _conv(2 * w, 4 * w, 3, 2)
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.layers(image)


class ImageDecoder(nn.Module):
    """R4w x n, u2w, uw, c9s1-3: features [B, 4w, H/4, W/4] -> image [B, 3, H, W]."""

    def __init__(self, config: CodecConfig) -> None:
        super().__init__()
        w = config.block_expansion
        self.res = nn.Sequential(*(ResidualBlock(4 * w) for _ in range(config.num_res_blocks)))
        self.up = nn.Sequential(_up(4 * w, 2 * w), _up(2 * w, w))
        self.out = nn.Conv2d(w, 3, 9, padding=4)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.out(self.up(self.res(features))))


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1),
        nn.InstanceNorm2d(cout, affine=True),
        nn.ReLU(inplace=True),
    )
