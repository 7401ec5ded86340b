"""LIA flow-field generator G and the full generator (encoder + motion dictionary + G).

Facts (wyhsirius/LIA@networks/styledecoder.py, classes Synthesis, ToFlow, ToRGB, ConstantInput;
networks/generator.py):
- a learned 4x4 constant (channels of 4x4), one StyledConv at 4x4, then per octave 8..size an
  upsampling StyledConv, a StyledConv and two 1x1 heads, all modulated by the target latent
  z_{s->d} = z_{s->r} + w_{r->d};
- ToFlow: modulated 1x1 conv (no demodulation) + bias -> 3 channels, summed with the upsampled
  previous-octave output; tanh of channels 0-1 is a flow offset added to the identity grid,
  sigmoid of channel 2 an occlusion mask; the encoder feature map of that octave is warped by
  the flow and masked, and the next octave continues from warped + (1 - mask) * decoder feature;
- ToRGB: 1x1 ConvLayer (with its leaky ReLU) + bias on the *warped* feature, summed with the
  upsampled RGB of the previous octave; the last RGB sum is the image (in [-1, 1], unclamped).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.zoo.lia.encoder import LIAEncoder
from talkingub.zoo.lia.motion_dictionary import MotionDictionary
from talkingub.zoo.lia.styleconv import ConvLayer, ModulatedConv2d, StyledConv, Upsample


def identity_grid(height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """[1, H, W, 2] sampling grid (x, y) in [-1, 1] that reproduces the input (align_corners)."""
    ys = torch.linspace(-1.0, 1.0, height, device=like.device, dtype=like.dtype)
    xs = torch.linspace(-1.0, 1.0, width, device=like.device, dtype=like.dtype)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((gx, gy), dim=-1)[None]


class ToFlow(nn.Module):
    """Flow + occlusion head of one octave; warps the encoder feature of that octave.

    `align_corners`: how `grid_sample` reads the identity grid plus offsets. The reference
    (networks/styledecoder.py ToFlow) passes no argument under PyTorch 1.5+ (README), i.e.
    False; True (our default, `LIAConfig.align_corners`) makes the zero offset an exact copy.
    """

    def __init__(
        self,
        channels: int,
        latent_dim: int,
        blur_taps: tuple[int, ...],
        align_corners: bool = True,
    ) -> None:
        super().__init__()
        self.align_corners = align_corners
        self.conv = ModulatedConv2d(channels, 3, 1, latent_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))
        self.upsample = Upsample(blur_taps)

    def forward(
        self,
        x: torch.Tensor,
        latent: torch.Tensor,
        feat: torch.Tensor,
        skip: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        raw = self.conv(x, latent) + self.bias
        if skip is not None:
            raw = raw + self.upsample(skip)
        offset = torch.tanh(raw[:, :2]).permute(0, 2, 3, 1)
        mask = torch.sigmoid(raw[:, 2:3])
        grid = identity_grid(x.shape[2], x.shape[3], x) + offset
        warped = F.grid_sample(feat, grid, align_corners=self.align_corners) * mask
        return warped, warped + x * (1.0 - mask), raw


class ToRGB(nn.Module):
    def __init__(self, channels: int, blur_taps: tuple[int, ...]) -> None:
        super().__init__()
        self.conv = ConvLayer(channels, 3, 1, blur_taps=blur_taps)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))
        self.upsample = Upsample(blur_taps)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None) -> torch.Tensor:
        out: torch.Tensor = self.conv(x) + self.bias
        return out if skip is None else out + self.upsample(skip)


class Octave(nn.Module):
    """One resolution of G: upsampling StyledConv, StyledConv, ToFlow, ToRGB."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        latent_dim: int,
        blur_taps: tuple[int, ...],
        align_corners: bool = True,
    ) -> None:
        super().__init__()
        self.up = StyledConv(in_ch, out_ch, 3, latent_dim, upsample=True, blur_taps=blur_taps)
        self.conv = StyledConv(out_ch, out_ch, 3, latent_dim, blur_taps=blur_taps)
        self.to_flow = ToFlow(out_ch, latent_dim, blur_taps, align_corners)
        self.to_rgb = ToRGB(out_ch, blur_taps)

    def forward(
        self,
        x: torch.Tensor,
        latent: torch.Tensor,
        feat: torch.Tensor,
        flow: torch.Tensor | None,
        rgb: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> (decoder feature for the next octave, raw flow output, RGB so far)."""
        x = self.conv(self.up(x, latent), latent)
        warped, x, flow = self.to_flow(x, latent, feat, flow)
        return x, flow, self.to_rgb(warped, rgb)


class FlowGenerator(nn.Module):
    """G: target latent [B,D] + source features (8..S) -> image [B,3,S,S] in about [-1,1]."""

    def __init__(
        self,
        size: int,
        latent_dim: int,
        channels: dict[int, int],
        blur_taps: tuple[int, ...],
        align_corners: bool = True,
    ) -> None:
        super().__init__()
        self.const = nn.Parameter(torch.randn(1, channels[4], 4, 4))
        self.conv1 = StyledConv(channels[4], channels[4], 3, latent_dim, blur_taps=blur_taps)
        resolutions = [r for r in sorted(channels) if r > 4]
        self.octaves = nn.ModuleList(
            Octave(channels[r // 2], channels[r], latent_dim, blur_taps, align_corners)
            for r in resolutions
        )

    def forward(self, latent: torch.Tensor, feats: list[torch.Tensor]) -> torch.Tensor:
        if len(feats) != len(self.octaves):
            raise ValueError(f"expected {len(self.octaves)} feature maps, got {len(feats)}")
        x = self.conv1(self.const.expand(latent.shape[0], -1, -1, -1), latent)
        flow: torch.Tensor | None = None
        rgb: torch.Tensor | None = None
        for octave, feat in zip(self.octaves, feats):
            x, flow, rgb = octave(x, latent, feat, flow, rgb)
        assert rgb is not None
        return rgb


class LIAGenerator(nn.Module):
    """Encoder E, motion dictionary D_m and flow generator G; images in [-1, 1]."""

    def __init__(
        self,
        size: int,
        latent_dim: int,
        motion_dim: int,
        mlp_depth: int,
        channels: dict[int, int],
        blur_taps: tuple[int, ...],
        align_corners: bool = True,
    ) -> None:
        super().__init__()
        self.encoder = LIAEncoder(size, latent_dim, motion_dim, mlp_depth, channels, blur_taps)
        self.dictionary = MotionDictionary(latent_dim, motion_dim)
        self.synthesis = FlowGenerator(size, latent_dim, channels, blur_taps, align_corners)

    def motion_code(self, image: torch.Tensor) -> torch.Tensor:
        """w_{r->x} = sum_i A_i(x) d_i for an image x."""
        out: torch.Tensor = self.dictionary(self.encoder.magnitudes(image))
        return out

    def forward(self, source: torch.Tensor, driving: torch.Tensor) -> torch.Tensor:
        """Training / same-identity path: z_{s->d} = z_{s->r} + w_{r->d} (absolute motion)."""
        latent, feats = self.encoder.encode(source)
        return self.synthesis(latent + self.motion_code(driving), feats)
