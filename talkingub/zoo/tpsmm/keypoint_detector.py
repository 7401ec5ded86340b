"""TPSMM keypoint detector: a ResNet-18 regresses K x 5 keypoints directly,
sigmoid-squashed to [-1, 1] (Thin-Plate-Spline-Motion-Model@modules/keypoint_detector.py)."""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.tpsmm.resnet import ResNet18


class KeypointDetector(nn.Module):
    def __init__(self, num_tps: int, points_per_tps: int, num_channels: int, width: int) -> None:
        super().__init__()
        self.num_points = num_tps * points_per_tps
        self.fg_encoder = ResNet18(num_channels, self.num_points * 2, width)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """-> keypoints [B, K*5, 2] in [-1, 1]."""
        points = torch.sigmoid(self.fg_encoder(image)) * 2 - 1
        return points.view(len(image), self.num_points, 2)
