"""F_D, the depth network of the 3-D head geometry learning (Head3D Sec. 3.1, 4.2).

The paper builds F_D "with a similar architecture used in [20]" (Khan et al., an
encoder-decoder for portrait depth, Neural Networks 2021) and adds instance normalisation to
its decoder to stabilise training; it starts from [20]'s pretrained weights. [20]'s exact
layers and weights are not available to us, so F_D is the U-Net hourglass of the keypoint
models (`talkingub.zoo.keypoint_common.hourglass`: down blocks with batch normalisation,
up blocks with skip connections) whose decoder normalises with instance normalisation, as
the paper says, randomly initialised (our choice). The depth is bounded as in Unsup3d:
distance + depth_range * tanh(raw), i.e. 0.9 to 1.1 m at the paper's 1 m.
"""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.head3d.config import CameraConfig, DepthNetConfig
from talkingub.zoo.keypoint_common.hourglass import HourglassDecoder, HourglassEncoder


class DepthNet(nn.Module):
    """Head image [B, 3, S, S] -> depth [B, S, S] (metres, camera z)."""

    def __init__(self, config: DepthNetConfig, camera: CameraConfig) -> None:
        super().__init__()
        args = (config.block_expansion, 3, config.num_blocks, config.max_features)
        self.encoder = HourglassEncoder(*args, norm="batch")
        self.decoder = HourglassDecoder(*args, norm="instance")
        self.head = nn.Conv2d(self.decoder.out_channels[-1], 1, 7, padding=3)
        self.distance = camera.distance
        self.depth_range = camera.depth_range

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        raw = self.head(self.decoder(self.encoder(image))[-1])[:, 0]
        return self.distance + self.depth_range * torch.tanh(raw.float())
