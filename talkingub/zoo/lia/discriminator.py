"""StyleGAN2 residual discriminator, as LIA trains it.

Facts (wyhsirius/LIA networks/discriminator.py, read from its fork
brunotech/LIA@networks/discriminator.py since the index lacks the original file): 1x1
ConvLayer stem, one ResBlock per octave down to 4x4, minibatch standard deviation (group 4,
one feature), 3x3 ConvLayer on channels + 1, EqualLinear(16*C4 -> C4, leaky ReLU) and
EqualLinear(C4 -> 1). Channel table with the channel multiplier (see styleconv.channel_table).
"""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.lia.styleconv import ConvLayer, EqualLinear, ResBlock


def minibatch_stddev(x: torch.Tensor, group_size: int) -> torch.Tensor:
    """Append one channel: the mean over features of the per-group std of each position.

    Groups are strided (sample i with i + B/G, ...) as in the reference; the group is the
    largest size <= `group_size` that divides the batch (the reference requires it to).
    """
    b, c, h, w = x.shape
    group = min(b, group_size)
    while b % group:
        group -= 1
    y = x.view(group, -1, 1, c, h, w)
    y = torch.sqrt(y.var(dim=0, unbiased=False) + 1e-8)
    y = y.mean(dim=(2, 3, 4), keepdim=True).squeeze(2)  # [B/G, 1, 1, 1]
    return torch.cat([x, y.repeat(group, 1, h, w)], dim=1)


class Discriminator(nn.Module):
    """Image [B,3,S,S] in [-1,1] -> realism logit [B,1]."""

    def __init__(
        self,
        size: int,
        channels: dict[int, int],
        blur_taps: tuple[int, ...],
        stddev_group: int = 4,
    ) -> None:
        super().__init__()
        self.stem = ConvLayer(3, channels[size], 1, blur_taps=blur_taps)
        resolutions = [r for r in sorted(channels, reverse=True) if r > 4]
        self.blocks = nn.Sequential(
            *(ResBlock(channels[r], channels[r // 2], blur_taps) for r in resolutions)
        )
        self.stddev_group = stddev_group
        self.final_conv = ConvLayer(channels[4] + 1, channels[4], 3, blur_taps=blur_taps)
        self.final_linear = nn.Sequential(
            EqualLinear(channels[4] * 16, channels[4], activate=True),
            EqualLinear(channels[4], 1),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(image))
        x = self.final_conv(minibatch_stddev(x, self.stddev_group))
        out: torch.Tensor = self.final_linear(x.flatten(1))
        return out
