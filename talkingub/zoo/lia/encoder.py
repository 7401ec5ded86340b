"""LIA encoder E: one residual CNN for appearance, plus an MLP for motion magnitudes.

Facts (wyhsirius/LIA@networks/encoder.py, classes EncoderApp and Encoder):
- a 1x1 ConvLayer lifts RGB to the channels of the input resolution, then one ResBlock per
  octave halves the resolution down to 4x4, and a bias-free 4x4 EqualConv2d (no padding)
  gives the latent code z (512-d) of the image;
- the feature maps at 8x8 ... size x size (the 1x1 stem output and every ResBlock output but
  the 4x4 one) are kept for the generator to warp;
- the motion magnitudes A (20-d) come from the same latent z through five EqualLinear layers
  (four 512->512, one 512->20) with no activation between them, as in the reference code.
"""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.lia.styleconv import ConvLayer, EqualConv2d, EqualLinear, ResBlock


class AppearanceEncoder(nn.Module):
    """Image [B,3,S,S] in [-1,1] -> (latent z [B,D], features at 8..S, coarse to fine)."""

    def __init__(
        self, size: int, latent_dim: int, channels: dict[int, int], blur_taps: tuple[int, ...]
    ) -> None:
        super().__init__()
        self.stem = ConvLayer(3, channels[size], 1, blur_taps=blur_taps)
        self.blocks = nn.ModuleList(
            ResBlock(channels[res], channels[res // 2], blur_taps) for res in _octaves_down(size)
        )
        self.head = EqualConv2d(channels[4], latent_dim, 4, bias=False)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = self.stem(image)
        feats = [x]
        for block in self.blocks:
            x = block(x)
            feats.append(x)
        latent = self.head(feats.pop()).flatten(1)  # drops the 4x4 map from the kept features
        return latent, feats[::-1]


def _octaves_down(size: int) -> list[int]:
    """Resolutions at which a ResBlock starts: size, size/2, ..., 8."""
    out = []
    res = size
    while res > 4:
        out.append(res)
        res //= 2
    return out


class MotionMLP(nn.Module):
    """Latent z [B,D] -> motion magnitudes A [B,M] (linear layers, no activation)."""

    def __init__(self, latent_dim: int, motion_dim: int, depth: int) -> None:
        super().__init__()
        layers = [EqualLinear(latent_dim, latent_dim) for _ in range(depth)]
        layers.append(EqualLinear(latent_dim, motion_dim))
        self.layers = nn.Sequential(*layers)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.layers(latent)
        return out


class LIAEncoder(nn.Module):
    """E = appearance encoder + motion MLP sharing the latent z."""

    def __init__(
        self,
        size: int,
        latent_dim: int,
        motion_dim: int,
        mlp_depth: int,
        channels: dict[int, int],
        blur_taps: tuple[int, ...],
    ) -> None:
        super().__init__()
        self.appearance = AppearanceEncoder(size, latent_dim, channels, blur_taps)
        self.motion = MotionMLP(latent_dim, motion_dim, mlp_depth)

    def encode(self, image: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(z, features) of an image: z_{s->r} and the features to warp, for a source."""
        latent, feats = self.appearance(image)
        return latent, feats

    def magnitudes(self, image: torch.Tensor) -> torch.Tensor:
        """Motion magnitudes A of an image (a driving frame, or the source in relative mode)."""
        latent, _ = self.appearance(image)
        out: torch.Tensor = self.motion(latent)
        return out
