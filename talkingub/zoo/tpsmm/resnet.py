"""ResNet-18 layout (He et al. 2016) with a configurable base width: the image encoder of the TPSMM
keypoint detector and background predictor. At width 64 it has exactly the layers (and parameter
count) of torchvision's resnet18, which the reference uses untrained
(Thin-Plate-Spline-Motion-Model@modules/keypoint_detector.py, modules/bg_motion_predictor.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

STAGES = (2, 2, 2, 2)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample: nn.Sequential | None = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class ResNet18(nn.Module):
    """Image [B, C, H, W] -> [B, outputs] (stem, 4 stages, global average pool, linear)."""

    def __init__(self, in_channels: int, outputs: int, width: int = 64) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        layers = []
        cin = width
        for i, blocks in enumerate(STAGES):
            cout = width * 2**i
            stage = [
                BasicBlock(cin if j == 0 else cout, cout, 2 if i and j == 0 else 1)
                for j in range(blocks)
            ]
            layers.append(nn.Sequential(*stage))
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, outputs)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        return self.fc(self.layers(x).mean(dim=(2, 3)))
