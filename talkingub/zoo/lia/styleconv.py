"""StyleGAN2 building blocks in plain PyTorch (no custom CUDA ops; CPU, CUDA and meta devices).

LIA builds its encoder, flow generator and discriminator from the StyleGAN2 layer set
(wyhsirius/LIA@networks/encoder.py, networks/styledecoder.py; rosinality's stylegan2-pytorch
conventions): equalised learning-rate linear/conv layers, a leaky ReLU with a learned bias and a
sqrt(2) gain, FIR blur filters around strided (transposed) convolutions, and weight
(de)modulated convolutions driven by a latent code.

The modulated convolution here scales activations instead of building one weight per sample
(the "non-fused" form of StyleGAN2-ADA); it is mathematically the same operation.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LEAKY_SLOPE = 0.2
LEAKY_GAIN = math.sqrt(2.0)
DEMOD_EPS = 1e-8


def make_blur_kernel(taps: tuple[int, ...]) -> torch.Tensor:
    """Separable FIR taps -> normalised 2-D kernel (outer product, sums to one)."""
    k = torch.tensor(taps, dtype=torch.float32)
    kernel = k[None, :] * k[:, None]
    return kernel / kernel.sum()


def upfirdn2d(
    x: torch.Tensor, kernel: torch.Tensor, up: int = 1, down: int = 1, pad: tuple[int, int] = (0, 0)
) -> torch.Tensor:
    """Zero-insert upsample by `up`, pad, filter with `kernel` per channel, keep every `down`th."""
    if min(pad) < 0:
        raise ValueError(f"negative padding is not supported: {pad}")
    b, c, h, w = x.shape
    if up > 1:
        spread = x.new_zeros(b, c, h * up, w * up)
        spread[:, :, ::up, ::up] = x
        x = spread
    x = F.pad(x, [pad[0], pad[1], pad[0], pad[1]])
    weight = kernel.flip(0, 1)[None, None].to(x.dtype).expand(c, 1, *kernel.shape)
    x = F.conv2d(x, weight, groups=c)
    return x[:, :, ::down, ::down] if down > 1 else x


class Blur(nn.Module):
    """FIR low-pass filter with fixed padding (anti-aliasing around strided convolutions)."""

    kernel: torch.Tensor

    def __init__(self, taps: tuple[int, ...], pad: tuple[int, int], gain: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("kernel", make_blur_kernel(taps) * gain)
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, pad=self.pad)


class Upsample(nn.Module):
    """2x FIR upsampling (used on the skip RGB / flow outputs)."""

    kernel: torch.Tensor

    def __init__(self, taps: tuple[int, ...], factor: int = 2) -> None:
        super().__init__()
        self.register_buffer("kernel", make_blur_kernel(taps) * factor**2)
        p = len(taps) - factor
        self.factor = factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad)


def fused_leaky_relu(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """leaky_relu(x + bias, 0.2) * sqrt(2); `bias` broadcasts over channel dim 1."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return F.leaky_relu(x + bias.view(shape), LEAKY_SLOPE) * LEAKY_GAIN


class FusedLeakyReLU(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fused_leaky_relu(x, self.bias)


class EqualLinear(nn.Module):
    """Linear layer with weights ~ N(0, 1) scaled by 1/sqrt(fan_in) at run time."""

    def __init__(
        self, in_dim: int, out_dim: int, bias_init: float = 0.0, activate: bool = False
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim))
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale = 1.0 / math.sqrt(in_dim)
        self.activate = activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.activate:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), self.bias)
        return F.linear(x, self.weight * self.scale, self.bias)


class EqualConv2d(nn.Module):
    """Conv layer with weights ~ N(0, 1) scaled by 1/sqrt(fan_in) at run time."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel: int,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None
        self.scale = 1.0 / math.sqrt(in_ch * kernel * kernel)
        self.stride = stride
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.scale
        return F.conv2d(x, w, self.bias, stride=self.stride, padding=self.padding)


class ConvLayer(nn.Sequential):
    """[blur + stride-2] equalised conv, then a biased leaky ReLU (or nothing)."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel: int,
        downsample: bool = False,
        blur_taps: tuple[int, ...] = (1, 3, 3, 1),
        bias: bool = True,
        activate: bool = True,
    ) -> None:
        layers: list[nn.Module] = []
        if downsample:
            p = len(blur_taps) - 2 + kernel - 1
            layers.append(Blur(blur_taps, ((p + 1) // 2, p // 2)))
            conv = EqualConv2d(in_ch, out_ch, kernel, 2, 0, bias=bias and not activate)
        else:
            conv = EqualConv2d(in_ch, out_ch, kernel, 1, kernel // 2, bias=bias and not activate)
        layers.append(conv)
        if activate:
            layers.append(FusedLeakyReLU(out_ch) if bias else nn.LeakyReLU(LEAKY_SLOPE))
        super().__init__(*layers)


class ResBlock(nn.Module):
    """Residual 2x downsampling block: conv3x3, conv3x3/2, plus a 1x1/2 skip, / sqrt(2)."""

    def __init__(self, in_ch: int, out_ch: int, blur_taps: tuple[int, ...]) -> None:
        super().__init__()
        self.conv1 = ConvLayer(in_ch, in_ch, 3, blur_taps=blur_taps)
        self.conv2 = ConvLayer(in_ch, out_ch, 3, downsample=True, blur_taps=blur_taps)
        self.skip = ConvLayer(
            in_ch, out_ch, 1, downsample=True, blur_taps=blur_taps, bias=False, activate=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.conv2(self.conv1(x)) + self.skip(x)) / math.sqrt(2.0)


class ModulatedConv2d(nn.Module):
    """StyleGAN2 conv whose input channels are scaled by an affine map of the latent code."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel: int,
        latent_dim: int,
        demodulate: bool = True,
        upsample: bool = False,
        blur_taps: tuple[int, ...] = (1, 3, 3, 1),
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.scale = 1.0 / math.sqrt(in_ch * kernel * kernel)
        self.modulation = EqualLinear(latent_dim, in_ch, bias_init=1.0)
        self.demodulate = demodulate
        self.upsample = upsample
        self.padding = kernel // 2
        if upsample:
            p = len(blur_taps) - 2 - (kernel - 1)
            self.blur = Blur(blur_taps, ((p + 1) // 2 + 1, p // 2 + 1), gain=4.0)

    def forward(self, x: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        style = self.modulation(latent)  # [B, in]
        weight = self.weight * self.scale
        x = x * style[:, :, None, None]
        if self.upsample:
            out = self.blur(F.conv_transpose2d(x, weight.transpose(0, 1), stride=2))
        else:
            out = F.conv2d(x, weight, padding=self.padding)
        if self.demodulate:
            energy = style.pow(2) @ weight.pow(2).sum(dim=(2, 3)).t()  # [B, out]
            out = out * torch.rsqrt(energy + DEMOD_EPS)[:, :, None, None]
        return out


class StyledConv(nn.Module):
    """Modulated conv followed by the biased leaky ReLU (LIA injects no noise)."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel: int,
        latent_dim: int,
        upsample: bool = False,
        blur_taps: tuple[int, ...] = (1, 3, 3, 1),
    ) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(
            in_ch, out_ch, kernel, latent_dim, upsample=upsample, blur_taps=blur_taps
        )
        self.activate = FusedLeakyReLU(out_ch)

    def forward(self, x: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        return self.activate(self.conv(x, latent))


def channel_table(
    size: int, multiplier: int = 1, base: int = 16384, maximum: int = 512
) -> dict[int, int]:
    """Channels per resolution 4..size: min(maximum, base * multiplier / res).

    With base 16384 and maximum 512 this is LIA's / StyleGAN2's table
    (4-32: 512, 64: 256*m, 128: 128*m, 256: 64*m), wyhsirius/LIA@networks/styledecoder.py.
    """
    table = {}
    res = 4
    while res <= size:
        table[res] = max(1, min(maximum, base * multiplier // res))
        res *= 2
    return table
