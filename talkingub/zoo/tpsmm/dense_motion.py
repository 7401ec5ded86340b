"""TPSMM dense motion network: K TPS transforms plus an affine background transform, blended by
hourglass contribution maps (with TPS dropout early in training) into one optical flow, and
occlusion masks at several resolutions (Thin-Plate-Spline-Motion-Model@modules/dense_motion.py,
paper eq. 5-8)."""

from __future__ import annotations

import math
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.zoo.keypoint_common.antialias import AntiAliasDownsample
from talkingub.zoo.keypoint_common.blocks import UpBlock2d
from talkingub.zoo.keypoint_common.dense import blend_motions, deform_per_motion, heatmap_difference
from talkingub.zoo.keypoint_common.geometry import apply_homography, coordinate_grid
from talkingub.zoo.keypoint_common.hourglass import Hourglass
from talkingub.zoo.tpsmm.config import DenseMotionConfig
from talkingub.zoo.tpsmm.tps import KeypointTPS


def dropout_softmax(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Softmax over dim 1 with each TPS (never the background, index 0) dropped with
    probability p per sample. The reference also divides the logits by 1 - p after their
    exponentials are taken, which leaves the output unchanged, so that step is omitted."""
    keep = torch.rand(logits.shape[:2], device=logits.device) >= p
    keep[:, 0] = True
    exp = (logits - logits.amax(dim=1, keepdim=True)).exp() * keep[:, :, None, None]
    return exp / (exp.sum(dim=1, keepdim=True) + 1e-6)


class DenseMotionNetwork(nn.Module):
    def __init__(
        self,
        num_tps: int,
        points_per_tps: int,
        num_channels: int,
        cfg: DenseMotionConfig,
        multi_mask: bool,
        occlusion_count: int,
        regularisation: float,
        align_corners: bool,
    ) -> None:
        super().__init__()
        self.align_corners = align_corners
        self.num_tps, self.points_per_tps = num_tps, points_per_tps
        self.kp_variance = cfg.kp_variance
        self.regularisation = regularisation
        self.down = AntiAliasDownsample(num_channels, cfg.scale_factor)
        in_features = num_channels * (num_tps + 1) + num_tps * points_per_tps + 1
        self.hourglass = Hourglass(
            cfg.block_expansion, in_features, cfg.num_blocks, cfg.max_features, norm="instance"
        )
        outs = self.hourglass.out_channels
        self.maps = nn.Conv2d(outs[-1], num_tps + 1, 7, padding=3)
        self.up_count = round(math.log2(1 / cfg.scale_factor)) if multi_mask else 0
        ups = [outs[-1] // 2**i for i in range(self.up_count + 1)]
        self.up = nn.ModuleList(UpBlock2d(a, b, 3, "instance") for a, b in pairwise(ups))
        from_hourglass = occlusion_count - self.up_count if multi_mask else 1
        channels = [outs[-1 - j] for j in reversed(range(from_hourglass))] + ups[1:]
        self.occlusion = nn.ModuleList(nn.Conv2d(c, 1, 7, padding=3) for c in channels)
        self.from_hourglass = from_hourglass

    def transformations(
        self,
        small: torch.Tensor,
        kp_source: torch.Tensor,
        kp_driving: torch.Tensor,
        bg: torch.Tensor | None,
    ) -> torch.Tensor:
        """Background (identity or affine) + K TPS sampling grids -> [B, K+1, h, w, 2]."""
        b, _, h, w = small.shape
        shape = (b, self.num_tps, self.points_per_tps, 2)
        tps = KeypointTPS(kp_driving.view(shape), kp_source.view(shape), self.regularisation)
        grid = coordinate_grid(h, w, like=small).expand(b, h, w, 2)
        background = grid if bg is None else apply_homography(bg, grid)
        return torch.cat([background[:, None], tps.grid(h, w)], dim=1)

    def occlusions(self, levels: list[torch.Tensor]) -> list[torch.Tensor]:
        """Occlusion masks coarse to fine: last hourglass levels, then the extra up blocks."""
        feats = levels[len(levels) - self.from_hourglass :]
        x = levels[-1]
        for up in self.up:
            x = up(x)
            feats.append(x)
        return [torch.sigmoid(conv(f)) for conv, f in zip(self.occlusion, feats)]

    def forward(
        self,
        source: torch.Tensor,
        kp_source: torch.Tensor,
        kp_driving: torch.Tensor,
        bg: torch.Tensor | None = None,
        dropout_p: float | None = None,
    ) -> dict[str, torch.Tensor | list[torch.Tensor]]:
        small = self.down(source)
        b, _, h, w = small.shape
        heat = heatmap_difference(kp_driving, kp_source, h, w, self.kp_variance, self.kp_variance)
        motions = self.transformations(small, kp_source, kp_driving, bg)
        deformed = deform_per_motion(small, motions, align_corners=self.align_corners)
        levels = self.hourglass.forward_all(torch.cat([heat, deformed.view(b, -1, h, w)], dim=1))
        logits = self.maps(levels[-1])
        maps = F.softmax(logits, dim=1) if dropout_p is None else dropout_softmax(logits, dropout_p)
        return {
            "contribution_maps": maps,
            "deformed_source": deformed,
            "deformation": blend_motions(maps, motions),
            "occlusion_map": self.occlusions(levels),
        }
