"""TPSMM background motion predictor: a ResNet-18 on the concatenated (source, driving) pair
regresses an affine matrix, its head initialised at the identity
(Thin-Plate-Spline-Motion-Model@modules/bg_motion_predictor.py)."""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.tpsmm.resnet import ResNet18


class BGMotionPredictor(nn.Module):
    def __init__(self, num_channels: int, width: int) -> None:
        super().__init__()
        self.bg_encoder = ResNet18(2 * num_channels, 6, width)
        with torch.no_grad():
            self.bg_encoder.fc.weight.zero_()
            self.bg_encoder.fc.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]))

    def forward(self, source: torch.Tensor, driving: torch.Tensor) -> torch.Tensor:
        """-> [B, 3, 3] with last row (0, 0, 1)."""
        top = self.bg_encoder(torch.cat([source, driving], dim=1)).view(-1, 2, 3)
        bottom = torch.tensor([0.0, 0.0, 1.0], dtype=top.dtype, device=top.device)
        return torch.cat([top, bottom.expand(len(top), 1, 3)], dim=1)
