"""The pix2pixHD generator [17] both stages of Liu et al. use: the global generator G1 and,
with `n_local_enhancers` > 0, the local enhancer G2 around it (coarse-to-fine).

Facts followed (NVIDIA/pix2pixHD@models/networks.py, GlobalGenerator, LocalEnhancer,
ResnetBlock, weights_init): G1 = 7x7 conv (reflection pad 3) -> `n_downsample` stride-2 3x3
convs doubling the channels -> `n_blocks` residual blocks (two 3x3 convs, reflection pad 1,
norm, ReLU between, identity skip) -> as many stride-2 transposed convs halving them -> 7x7
conv -> tanh; norm after every conv but the last (instance norm without affine parameters by
default). G2: G1 built with 2^n_local x `ngf` channels on the input downsampled n_local times
(3x3 average pool, stride 2, padding excluded from the count) and without its last conv;
each enhancer level: 7x7 conv + stride-2 conv on the input at its resolution, added to the
coarser level's features, `n_blocks_local` residual blocks, a stride-2 transposed conv, and
at the finest level the 7x7 conv + tanh. Conv weights start from N(0, 0.02).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

Norm = Literal["instance", "batch"]


def norm_layer(kind: Norm, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels, affine=True)
    return nn.InstanceNorm2d(channels, affine=False)


class ResnetBlock(nn.Module):
    def __init__(self, channels: int, norm: Norm) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            norm_layer(norm, channels),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            norm_layer(norm, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


def _global_layers(
    in_channels: int, out_channels: int, ngf: int, n_downsample: int, n_blocks: int, norm: Norm
) -> list[nn.Module]:
    layers: list[nn.Module] = [
        nn.ReflectionPad2d(3),
        nn.Conv2d(in_channels, ngf, 7),
        norm_layer(norm, ngf),
        nn.ReLU(True),
    ]
    for i in range(n_downsample):
        c = ngf * 2**i
        layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), norm_layer(norm, 2 * c)]
        layers.append(nn.ReLU(True))
    c = ngf * 2**n_downsample
    layers += [ResnetBlock(c, norm) for _ in range(n_blocks)]
    for i in range(n_downsample):
        c = ngf * 2 ** (n_downsample - i)
        layers += [
            nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1),
            norm_layer(norm, c // 2),
            nn.ReLU(True),
        ]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
    return layers


class Pix2PixHDGenerator(nn.Module):
    """G1 (`n_local_enhancers` 0) or G1 + G2 levels; output in [-1, 1] at the input's size."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        ngf: int,
        n_downsample: int,
        n_blocks: int,
        n_local_enhancers: int = 0,
        n_blocks_local: int = 3,
        norm: Norm = "instance",
    ) -> None:
        super().__init__()
        self.n_local = n_local_enhancers
        ngf_global = ngf * 2**n_local_enhancers
        layers = _global_layers(in_channels, out_channels, ngf_global, n_downsample, n_blocks, norm)
        if n_local_enhancers:
            layers = layers[:-3]  # the enhancers end the network
        self.global_net = nn.Sequential(*layers)
        self.down_nets = nn.ModuleList()
        self.up_nets = nn.ModuleList()
        for n in range(1, n_local_enhancers + 1):
            c = ngf * 2 ** (n_local_enhancers - n)
            self.down_nets.append(
                nn.Sequential(
                    nn.ReflectionPad2d(3),
                    nn.Conv2d(in_channels, c, 7),
                    norm_layer(norm, c),
                    nn.ReLU(True),
                    nn.Conv2d(c, 2 * c, 3, stride=2, padding=1),
                    norm_layer(norm, 2 * c),
                    nn.ReLU(True),
                )
            )
            up: list[nn.Module] = [ResnetBlock(2 * c, norm) for _ in range(n_blocks_local)]
            up += [
                nn.ConvTranspose2d(2 * c, c, 3, stride=2, padding=1, output_padding=1),
                norm_layer(norm, c),
                nn.ReLU(True),
            ]
            if n == n_local_enhancers:
                up += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
            self.up_nets.append(nn.Sequential(*up))
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pyramid = [x]
        for _ in range(self.n_local):
            pyramid.append(self.downsample(pyramid[-1]))
        out = self.global_net(pyramid[-1])
        for n in range(self.n_local):
            level = pyramid[self.n_local - 1 - n]
            out = self.up_nets[n](self.down_nets[n](level) + out)
        return out


def init_weights(module: nn.Module) -> None:
    """pix2pixHD's weights_init: conv weights N(0, 0.02); batch norm scale N(1, 0.02)."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
