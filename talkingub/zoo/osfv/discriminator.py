"""Multi-scale patch discriminator (pix2pix style, spectral norm) for the GAN and
feature-matching losses of OSFV Sec. 3.3
(zhanglonghao1992/One-Shot_Free-View_Neural_Talking_Head_Synthesis@modules/discriminator.py;
scales [1], 32 -> 512 channels, 4 blocks, spectral norm on: config/vox-256.yaml).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.zoo.osfv.config import DiscriminatorConfig


def _maybe_sn(module: nn.Module, enabled: bool) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(module) if enabled else module


class PatchDiscriminator(nn.Module):
    """4x4 convs (no padding), instance norm after the first, 2x2 average pooling but the last."""

    def __init__(self, config: DiscriminatorConfig) -> None:
        super().__init__()
        n = config.num_blocks
        widths = [min(config.max_features, config.expansion * 2 ** (i + 1)) for i in range(n)]
        ins = [3, *widths[:-1]]
        self.convs = nn.ModuleList(
            _maybe_sn(nn.Conv2d(a, b, 4), config.spectral_norm) for a, b in zip(ins, widths)
        )
        self.norms = nn.ModuleList(
            nn.Identity() if i == 0 else nn.InstanceNorm2d(w, affine=True)
            for i, w in enumerate(widths)
        )
        self.head = _maybe_sn(nn.Conv2d(widths[-1], 1, 1), config.spectral_norm)

    def forward(self, image: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        features = []
        out = image
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            out = F.leaky_relu(norm(conv(out)), 0.2)
            if i != len(self.convs) - 1:
                out = F.avg_pool2d(out, 2)
            features.append(out)
        return features, self.head(out)


class MultiScaleDiscriminator(nn.Module):
    def __init__(self, config: DiscriminatorConfig) -> None:
        super().__init__()
        self.scales = config.scales
        self.discs = nn.ModuleList(PatchDiscriminator(config) for _ in config.scales)

    def forward(
        self, pyramid: dict[float, torch.Tensor]
    ) -> list[tuple[list[torch.Tensor], torch.Tensor]]:
        """pyramid: image per scale -> (feature maps, patch logits) per scale."""
        return [disc(pyramid[s]) for s, disc in zip(self.scales, self.discs)]
