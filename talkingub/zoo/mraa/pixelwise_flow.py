"""MRAA pixelwise flow predictor: K region affine motions plus the background motion, blended by
hourglass-predicted masks into a backward flow, and an occlusion map
(articulated-animation@modules/pixelwise_flow_predictor.py, paper Sec. 3.3)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.zoo.keypoint_common.antialias import AntiAliasDownsample
from talkingub.zoo.keypoint_common.dense import (
    blend_motions,
    deform_per_motion,
    heatmap_difference,
    local_affine_motions,
)
from talkingub.zoo.keypoint_common.geometry import apply_homography, coordinate_grid, inverse
from talkingub.zoo.keypoint_common.hourglass import Hourglass
from talkingub.zoo.mraa.config import PixelwiseFlowConfig
from talkingub.zoo.mraa.region_predictor import Regions


def relative_affine(source: Regions, driving: Regions, revert_axis_swap: bool) -> torch.Tensor:
    """A_s A_d^-1, with its sign fixed so that the [0, 0] entry is positive (PCA axis flips)."""
    affine = source["affine"] @ inverse(driving["affine"])
    return affine * torch.sign(affine[..., 0:1, 0:1]) if revert_axis_swap else affine


class PixelwiseFlowPredictor(nn.Module):
    def __init__(
        self,
        num_regions: int,
        num_channels: int,
        cfg: PixelwiseFlowConfig,
        revert_axis_swap: bool,
        align_corners: bool,
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.revert_axis_swap = revert_axis_swap
        self.align_corners = align_corners
        self.down = AntiAliasDownsample(num_channels, cfg.scale_factor)
        per_motion = num_channels * int(cfg.use_deformed_source) + 1
        self.hourglass = Hourglass(
            cfg.block_expansion, (num_regions + 1) * per_motion, cfg.num_blocks, cfg.max_features
        )
        self.mask = nn.Conv2d(self.hourglass.out_filters, num_regions + 1, 7, padding=3)
        self.occlusion = (
            nn.Conv2d(self.hourglass.out_filters, 1, 7, padding=3)
            if cfg.estimate_occlusion_map
            else None
        )

    def heatmaps(self, source: Regions, driving: Regions, h: int, w: int) -> torch.Tensor:
        cov = self.cfg.use_covar_heatmap
        return heatmap_difference(
            driving["shift"],
            source["shift"],
            h,
            w,
            driving["covar"] if cov else self.cfg.region_var,
            source["covar"] if cov else self.cfg.region_var,
        )

    def sparse_motions(
        self, source: Regions, driving: Regions, bg: torch.Tensor | None, h: int, w: int
    ) -> torch.Tensor:
        linear = relative_affine(source, driving, self.revert_axis_swap)
        local = local_affine_motions(source["shift"], driving["shift"], linear, h, w)
        grid = coordinate_grid(h, w, like=local).expand(local.shape[0], h, w, 2)
        background = grid if bg is None else apply_homography(bg, grid)
        return torch.cat([background[:, None], local], dim=1)

    def forward(
        self, image: torch.Tensor, source: Regions, driving: Regions, bg: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        small = self.down(image)
        b, _, h, w = small.shape
        motions = self.sparse_motions(source, driving, bg, h, w)
        parts = [self.heatmaps(source, driving, h, w)[:, :, None]]
        if self.cfg.use_deformed_source:
            parts.append(deform_per_motion(small, motions, align_corners=self.align_corners))
        features = self.hourglass(torch.cat(parts, dim=2).view(b, -1, h, w))
        mask = F.softmax(self.mask(features), dim=1)
        out = {"mask": mask, "optical_flow": blend_motions(mask, motions)}
        if self.occlusion is not None:
            out["occlusion_map"] = torch.sigmoid(self.occlusion(features))
        return out
