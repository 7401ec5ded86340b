"""Motion extractor M ([P] Sec. 3.2, "upgraded network architecture"): one ConvNeXt-V2-Tiny that
predicts canonical keypoints x_c, head pose (pitch, yaw, roll as 66 bins), expression
deformation delta, scale s and translation t of one image.

ConvNeXt-V2 (Woo et al., CVPR 2023), as [R] src/modules/convnextv2.py uses it: a 4x4 stride-4
stem conv + channels-first LayerNorm; before stages 2-4 a LayerNorm + 2x2 stride-2 conv; each
block is depthwise 7x7 conv -> LayerNorm -> Linear(4x) -> GELU -> GRN -> Linear -> residual
(optional stochastic depth); global average pool -> LayerNorm -> linear heads (kp and exp
3*K, pitch/yaw/roll num_bins, t 3, scale 1). Tiny: depths (3, 3, 9, 3), dims (96, 192, 384,
768). LayerNorm epsilon 1e-6, GRN epsilon 1e-6, as in [R].
"""

from __future__ import annotations

import dataclasses
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.zoo.liveportrait.config import MotionExtractorConfig

EPS = 1e-6


class ChannelsFirstLayerNorm(nn.Module):
    """LayerNorm over the channel axis of [B, C, H, W]."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + EPS)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class GlobalResponseNorm(nn.Module):
    """GRN on [B, H, W, C]: x + gamma * (x * N(x)) + beta, N = ||x||_HW / mean_C ||x||_HW."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, 1, channels))
        self.beta = nn.Parameter(torch.zeros(1, 1, 1, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        energy = torch.linalg.vector_norm(x.float(), dim=(1, 2), keepdim=True)
        ratio = (energy / (energy.mean(dim=-1, keepdim=True) + EPS)).to(x.dtype)
        return self.gamma * (x * ratio) + self.beta + x


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int, drop_path: float = 0.0) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=EPS)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.grn = GlobalResponseNorm(4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.drop_path = drop_path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.dwconv(x).permute(0, 2, 3, 1)  # -> [B, H, W, C]
        out = self.pwconv2(self.grn(F.gelu(self.pwconv1(self.norm(out)))))
        out = out.permute(0, 3, 1, 2)
        if self.training and self.drop_path > 0:
            keep = 1.0 - self.drop_path
            mask = out.new_empty(out.shape[0], 1, 1, 1).bernoulli_(keep) / keep
            out = out * mask
        return x + out


class ConvNeXtV2(nn.Module):
    """The trunk: image [B, 3, H, W] -> pooled, normalised features [B, dims[-1]]."""

    def __init__(self, config: MotionExtractorConfig) -> None:
        super().__init__()
        dims, depths = config.dims, config.depths
        self.stem = nn.Conv2d(3, dims[0], 4, stride=4)
        self.stem_norm = ChannelsFirstLayerNorm(dims[0])
        self.down_norms = nn.ModuleList(ChannelsFirstLayerNorm(d) for d in dims[:-1])
        self.down_convs = nn.ModuleList(nn.Conv2d(a, b, 2, stride=2) for a, b in pairwise(dims))
        total = sum(depths)
        rates = [config.drop_path * i / max(1, total - 1) for i in range(total)]
        starts = [sum(depths[:i]) for i in range(len(depths))]
        self.stages = nn.ModuleList(
            nn.Sequential(*(ConvNeXtBlock(dim, rates[start + j]) for j in range(depth)))
            for dim, depth, start in zip(dims, depths, starts)
        )
        self.norm = nn.LayerNorm(dims[-1], eps=EPS)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.stages[0](self.stem_norm(self.stem(image)))
        for norm, conv, stage in zip(self.down_norms, self.down_convs, self.stages[1:]):
            x = stage(conv(norm(x)))
        return self.norm(x.mean(dim=(-2, -1)))


@dataclasses.dataclass
class Motion:
    """What M predicts for a batch of images (raw head outputs; keypoints reshaped)."""

    canonical: torch.Tensor  # x_c [B, K, 3]
    pitch: torch.Tensor  # [B, num_bins] logits
    yaw: torch.Tensor
    roll: torch.Tensor
    translation: torch.Tensor  # t [B, 3]
    expression: torch.Tensor  # delta [B, K, 3]
    scale: torch.Tensor  # s [B, 1]


HEADS = ("kp", "scale", "pitch", "yaw", "roll", "t", "exp")


class MotionExtractor(nn.Module):
    def __init__(self, config: MotionExtractorConfig, num_kp: int) -> None:
        super().__init__()
        self.num_kp = num_kp
        self.backbone = ConvNeXtV2(config)
        width = config.dims[-1]
        sizes = {"kp": 3 * num_kp, "scale": 1, "t": 3, "exp": 3 * num_kp}
        self.heads = nn.ModuleDict(
            {name: nn.Linear(width, sizes.get(name, config.num_bins)) for name in HEADS}
        )
        self.apply(_init)

    def forward(self, image: torch.Tensor) -> Motion:
        feat = self.backbone(image)
        out = {name: head(feat) for name, head in self.heads.items()}
        b = image.shape[0]
        return Motion(
            canonical=out["kp"].view(b, self.num_kp, 3),
            pitch=out["pitch"],
            yaw=out["yaw"],
            roll=out["roll"],
            translation=out["t"],
            expression=out["exp"].view(b, self.num_kp, 3),
            scale=out["scale"],
        )


def _init(module: nn.Module) -> None:
    """ConvNeXt's init: truncated normal (std 0.02) weights, zero biases, for convs/linears."""
    if isinstance(module, nn.Conv2d | nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
