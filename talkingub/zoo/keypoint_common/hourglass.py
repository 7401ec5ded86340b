"""U-Net style hourglass used by every keypoint detector and dense-motion network of the family.

Channel rule (first-order-model@modules/util.py, Encoder/Decoder): level i of the encoder has
min(max_features, block_expansion * 2**(i+1)) channels; the decoder mirrors it, concatenating
the encoder skip after each up block, and ends with block_expansion + in_features channels.
"""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.keypoint_common.blocks import DownBlock2d, Norm, UpBlock2d


def level_channels(block_expansion: int, max_features: int, level: int) -> int:
    return min(max_features, block_expansion * (2**level))


class HourglassEncoder(nn.Module):
    def __init__(
        self,
        block_expansion: int,
        in_features: int,
        num_blocks: int,
        max_features: int,
        norm: Norm = "batch",
    ) -> None:
        super().__init__()
        blocks = []
        for i in range(num_blocks):
            cin = in_features if i == 0 else level_channels(block_expansion, max_features, i)
            cout = level_channels(block_expansion, max_features, i + 1)
            blocks.append(DownBlock2d(cin, cout, 3, norm))
        self.down_blocks = nn.ModuleList(blocks)
        self.out_channels = level_channels(block_expansion, max_features, num_blocks)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = [x]
        for block in self.down_blocks:
            outs.append(block(outs[-1]))
        return outs


class HourglassDecoder(nn.Module):
    def __init__(
        self,
        block_expansion: int,
        in_features: int,
        num_blocks: int,
        max_features: int,
        norm: Norm = "batch",
    ) -> None:
        super().__init__()
        blocks = []
        self.out_channels: list[int] = []  # channels of each (up + skip) output, coarse to fine
        for i in reversed(range(num_blocks)):
            factor = 1 if i == num_blocks - 1 else 2
            cin = factor * level_channels(block_expansion, max_features, i + 1)
            cout = level_channels(block_expansion, max_features, i)
            blocks.append(UpBlock2d(cin, cout, 3, norm))
            skip = in_features if i == 0 else cout
            self.out_channels.append(cout + skip)
        self.up_blocks = nn.ModuleList(blocks)

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        skips = list(features)
        out = skips.pop()
        outs = []
        for block in self.up_blocks:
            out = torch.cat([block(out), skips.pop()], dim=1)
            outs.append(out)
        return outs


class Hourglass(nn.Module):
    """Encoder + decoder; `forward` returns the finest output, `forward_all` every level."""

    def __init__(
        self,
        block_expansion: int,
        in_features: int,
        num_blocks: int,
        max_features: int,
        norm: Norm = "batch",
    ) -> None:
        super().__init__()
        args = (block_expansion, in_features, num_blocks, max_features, norm)
        self.encoder = HourglassEncoder(*args)
        self.decoder = HourglassDecoder(*args)
        self.out_channels = self.decoder.out_channels
        self.out_filters = self.out_channels[-1]

    def forward_all(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.decoder(self.encoder(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_all(x)[-1]
