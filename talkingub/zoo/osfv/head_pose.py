"""Head pose and expression estimator: (R, t, delta) = F_pose(image) (OSFV Sec. 3.1, eq. 1).

A ResNet-50-style bottleneck network (stages 4x, 8x, 16x, 32x `expansion` wide, 3/4/6/3
bottlenecks) with heads for yaw, pitch and roll as 66 bins of 3 degrees each, a translation
t (3) and an expression deformation delta (3 per keypoint)
(zhanglonghao1992/One-Shot_Free-View_Neural_Talking_Head_Synthesis@modules/keypoint_detector.py,
HEEstimator). Angles are the softmax expectation over the bins, as in Hopenet.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.zoo.osfv.blocks import ResBottleneck
from talkingub.zoo.osfv.config import OSFVConfig


@dataclasses.dataclass
class HeadPose:
    """Raw estimator outputs: angle logits [B, bins] and t [B, 3], expression [B, K, 3]."""

    yaw: torch.Tensor
    pitch: torch.Tensor
    roll: torch.Tensor
    translation: torch.Tensor
    expression: torch.Tensor

    def rotation(self) -> torch.Tensor:
        return rotation_matrix(
            bins_to_degrees(self.yaw), bins_to_degrees(self.pitch), bins_to_degrees(self.roll)
        )


def bins_to_degrees(logits: torch.Tensor) -> torch.Tensor:
    """Expected angle of 3-degree bins starting at -99 degrees (Hopenet's 66-bin convention)."""
    idx = torch.arange(logits.shape[-1], dtype=logits.dtype, device=logits.device)
    return (F.softmax(logits, dim=-1) * idx).sum(-1) * 3.0 - 99.0


def rotation_matrix(yaw: torch.Tensor, pitch: torch.Tensor, roll: torch.Tensor) -> torch.Tensor:
    """R = R_pitch(x) @ R_yaw(y) @ R_roll(z), angles in degrees, [B] each -> [B, 3, 3]."""
    y, p, r = (a * (math.pi / 180.0) for a in (yaw, pitch, roll))
    one, zero = torch.ones_like(y), torch.zeros_like(y)

    def mat(*rows: torch.Tensor) -> torch.Tensor:
        return torch.stack(rows, dim=-1).view(*y.shape, 3, 3)

    rx = mat(one, zero, zero, zero, p.cos(), -p.sin(), zero, p.sin(), p.cos())
    ry = mat(y.cos(), zero, y.sin(), zero, one, zero, -y.sin(), zero, y.cos())
    rz = mat(r.cos(), -r.sin(), zero, r.sin(), r.cos(), zero, zero, zero, one)
    return rx @ ry @ rz


def transform_keypoints(
    canonical: torch.Tensor,
    rotation: torch.Tensor,
    translation: torch.Tensor,
    expression: torch.Tensor,
) -> torch.Tensor:
    """x = R x_c + t + delta (OSFV eq. 1; PTUS eq. 4). canonical [B, K, 3] -> [B, K, 3]."""
    return canonical @ rotation.transpose(-1, -2) + translation.unsqueeze(-2) + expression


class HeadPoseEstimator(nn.Module):
    def __init__(self, config: OSFVConfig) -> None:
        super().__init__()
        hp = config.head_pose
        widths = [hp.expansion * m for m in (4, 8, 16, 32)]
        layers: list[nn.Module] = [
            nn.Conv2d(3, hp.expansion, 7, padding=3, stride=2), nn.BatchNorm2d(hp.expansion),
            nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1),
        ]  # fmt: skip
        cin = hp.expansion
        for stage, (width, blocks) in enumerate(zip(widths, hp.stage_blocks)):
            layers += [nn.Conv2d(cin, width, 1), nn.BatchNorm2d(width), nn.ReLU()]
            stride = 1 if stage == 0 else 2
            layers += [ResBottleneck(width, stride if i == 0 else 1) for i in range(blocks)]
            cin = width
        self.trunk = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.yaw = nn.Linear(cin, hp.num_bins)
        self.pitch = nn.Linear(cin, hp.num_bins)
        self.roll = nn.Linear(cin, hp.num_bins)
        self.translation = nn.Linear(cin, 3)
        self.expression = nn.Linear(cin, 3 * config.num_kp)

    def forward(self, image: torch.Tensor) -> HeadPose:
        feat = self.trunk(image)
        exp = self.expression(feat).view(image.shape[0], -1, 3)
        return HeadPose(
            self.yaw(feat), self.pitch(feat), self.roll(feat), self.translation(feat), exp
        )
