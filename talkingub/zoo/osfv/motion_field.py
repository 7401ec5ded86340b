"""3-D motion field estimator: keypoint pairs -> dense backward flow w and occlusion mask.

For each keypoint k the sparse motion maps a driving-space point z to z - x_d,k + x_s,k
(OSFV eq. 3, first-order term without Jacobians), plus an identity "background" motion. The
compressed appearance volume is warped by every candidate motion, concatenated with the
Gaussian heatmap difference of the keypoints, and a 3-D hourglass predicts a softmax mask
over the K + 1 motions and a 2-D occlusion map
(zhanglonghao1992/One-Shot_Free-View_Neural_Talking_Head_Synthesis@modules/dense_motion.py).
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.zoo.osfv.blocks import Hourglass3d, coordinate_grid
from talkingub.zoo.osfv.config import OSFVConfig


@dataclasses.dataclass
class MotionField:
    flow: torch.Tensor  # [B, D, H, W, 3] sampling coordinates into the source volume
    mask: torch.Tensor  # [B, K + 1, D, H, W] softmax weights of the candidate motions
    occlusion: torch.Tensor | None  # [B, 1, H, W] in (0, 1)


def keypoint_heatmaps(kp: torch.Tensor, grid: torch.Tensor, variance: float) -> torch.Tensor:
    """Gaussian around each keypoint: kp [B, K, 3], grid [D, H, W, 3] -> [B, K, D, H, W]."""
    diff = grid.unsqueeze(0).unsqueeze(0) - kp[:, :, None, None, None, :]
    return torch.exp(-0.5 * diff.pow(2).sum(-1) / variance)


def warp_volume(volume: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample volume [B, C, D, H, W] at flow [B, D', H', W', 3] (resized to the volume first)."""
    size = volume.shape[2:]
    if flow.shape[1:4] != size:
        flow = F.interpolate(flow.permute(0, 4, 1, 2, 3), size=size, mode="trilinear")
        flow = flow.permute(0, 2, 3, 4, 1)
    return F.grid_sample(volume, flow, align_corners=True)


class MotionFieldEstimator(nn.Module):
    def __init__(self, config: OSFVConfig, num_kp: int | None = None) -> None:
        super().__init__()
        m = config.motion
        self.num_kp = num_kp or config.num_kp
        self.variance = m.kp_variance
        self.compress = nn.Sequential(
            nn.Conv3d(config.feature_channels, m.compress, 1), nn.BatchNorm3d(m.compress), nn.ReLU()
        )
        cin = (self.num_kp + 1) * (m.compress + 1)
        self.hourglass = Hourglass3d(cin, m.expansion, m.num_blocks, m.max_features)
        self.mask = nn.Conv3d(
            self.hourglass.out_channels, self.num_kp + 1, m.mask_kernel, padding=m.mask_kernel // 2
        )
        self.occlusion: nn.Module | None = None
        if config.estimate_occlusion:
            occ_in = self.hourglass.out_channels * config.feature_depth
            self.occlusion = nn.Conv2d(occ_in, 1, 7, padding=3)

    def sparse_motions(
        self, grid: torch.Tensor, kp_src: torch.Tensor, kp_drv: torch.Tensor
    ) -> torch.Tensor:
        """[B, K + 1, D, H, W, 3]: identity, then z - x_d,k + x_s,k per keypoint."""
        b = kp_src.shape[0]
        shift = (kp_src - kp_drv)[:, :, None, None, None, :]
        per_kp = grid.unsqueeze(0).unsqueeze(0) + shift
        identity = grid.unsqueeze(0).unsqueeze(0).expand(b, 1, *grid.shape)
        return torch.cat([identity, per_kp], dim=1)

    def forward(
        self, volume: torch.Tensor, kp_src: torch.Tensor, kp_drv: torch.Tensor
    ) -> MotionField:
        """volume [B, C, D, H, W]; keypoints [B, K, 3] in the source / driving observation space."""
        feat = self.compress(volume)
        b, c, d, h, w = feat.shape
        grid = coordinate_grid(d, h, w, feat)
        motions = self.sparse_motions(grid, kp_src, kp_drv)
        k1 = motions.shape[1]
        repeated = feat.unsqueeze(1).expand(b, k1, c, d, h, w).reshape(b * k1, c, d, h, w)
        deformed = F.grid_sample(repeated, motions.reshape(b * k1, d, h, w, 3), align_corners=True)
        deformed = deformed.view(b, k1, c, d, h, w)
        heat = keypoint_heatmaps(kp_drv, grid, self.variance) - keypoint_heatmaps(
            kp_src, grid, self.variance
        )
        heat = torch.cat([heat.new_zeros(b, 1, d, h, w), heat], dim=1).unsqueeze(2)
        hidden = self.hourglass(torch.cat([heat, deformed], dim=2).view(b, -1, d, h, w))
        mask = F.softmax(self.mask(hidden), dim=1)
        flow = (motions * mask.unsqueeze(-1)).sum(dim=1)
        occlusion = None
        if self.occlusion is not None:
            occlusion = torch.sigmoid(self.occlusion(hidden.flatten(1, 2)))
        return MotionField(flow, mask, occlusion)
