"""The multi-scale PatchGAN discriminators of both stages (pix2pixHD [17]; the paper's
D_k, k = 1, 2, 3 in Eq. 1 and Eq. 4).

Facts followed (NVIDIA/pix2pixHD@models/networks.py, MultiscaleDiscriminator and
NLayerDiscriminator with getIntermFeat, which feature matching needs): each scale is a
PatchGAN of 4x4 convs, padding 2: a stride-2 conv with LeakyReLU(0.2), `n_layers - 1` more
stride-2 convs doubling the channels (at most 512) with norm and LeakyReLU, one stride-1 conv
doubling them again, then a stride-1 conv to one channel (raw scores, no sigmoid); scale k
sees the input average-pooled k - 1 times (3x3, stride 2, padding excluded). The output is,
per scale, every layer's features; the last is the score map.

Stage 1's discriminator sees (FAUP image, landmark image) pairs; stage 2's temporal one sees
(x_{t-L}, ..., x_t, y_{t-L}, ..., y_t): the L + 1 condition images and the L + 1 frames
stacked along the channels (Eq. 3, as Everybody Dance Now's temporal discriminator [6]).
"""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.liu_ubkp.pix2pixhd import Norm, init_weights, norm_layer


class PatchDiscriminator(nn.Module):
    def __init__(self, in_channels: int, ndf: int, n_layers: int, norm: Norm) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(in_channels, ndf, 4, stride=2, padding=2), nn.LeakyReLU(0.2))
        ]
        nf = ndf
        for n in range(1, n_layers + 1):
            prev, nf = nf, min(nf * 2, 512)
            stride = 2 if n < n_layers else 1
            layers.append(
                nn.Sequential(
                    nn.Conv2d(prev, nf, 4, stride=stride, padding=2),
                    norm_layer(norm, nf),
                    nn.LeakyReLU(0.2),
                )
            )
        layers.append(nn.Sequential(nn.Conv2d(nf, 1, 4, stride=1, padding=2)))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for layer in self.layers:
            x = layer(x)
            features.append(x)
        return features


class MultiscaleDiscriminator(nn.Module):
    """`num_d` PatchGANs on the input at 1, 1/2, 1/4, ... of its size."""

    def __init__(self, in_channels: int, ndf: int, n_layers: int, num_d: int, norm: Norm) -> None:
        super().__init__()
        self.scales = nn.ModuleList(
            PatchDiscriminator(in_channels, ndf, n_layers, norm) for _ in range(num_d)
        )
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        outputs = []
        for k, scale in enumerate(self.scales):
            if k:
                x = self.downsample(x)
            outputs.append(scale(x))
        return outputs
