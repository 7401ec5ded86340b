"""FOMM dense motion network: K local first-order (affine) motions plus the identity background
motion, blended by hourglass-predicted masks; optionally an occlusion map
(first-order-model@modules/dense_motion.py, paper eq. 4-8)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.zoo.fomm.config import DenseMotionConfig
from talkingub.zoo.fomm.keypoint_detector import Keypoints
from talkingub.zoo.keypoint_common.antialias import AntiAliasDownsample
from talkingub.zoo.keypoint_common.dense import (
    blend_motions,
    deform_per_motion,
    heatmap_difference,
    local_affine_motions,
)
from talkingub.zoo.keypoint_common.geometry import coordinate_grid, inverse
from talkingub.zoo.keypoint_common.hourglass import Hourglass


class DenseMotionNetwork(nn.Module):
    def __init__(
        self,
        num_kp: int,
        num_channels: int,
        cfg: DenseMotionConfig,
        estimate_occlusion_map: bool,
        align_corners: bool,
    ) -> None:
        super().__init__()
        self.num_kp = num_kp
        self.align_corners = align_corners
        self.kp_variance = cfg.kp_variance
        self.down = AntiAliasDownsample(num_channels, cfg.scale_factor)
        in_features = (num_kp + 1) * (num_channels + 1)
        self.hourglass = Hourglass(
            cfg.block_expansion, in_features, cfg.num_blocks, cfg.max_features
        )
        self.mask = nn.Conv2d(self.hourglass.out_filters, num_kp + 1, 7, padding=3)
        self.occlusion = (
            nn.Conv2d(self.hourglass.out_filters, 1, 7, padding=3)
            if estimate_occlusion_map
            else None
        )

    def sparse_motions(
        self, kp_source: Keypoints, kp_driving: Keypoints, h: int, w: int
    ) -> torch.Tensor:
        """Background identity + T_{s<-d} near each keypoint -> [B, K+1, h, w, 2]."""
        linear = None
        if "jacobian" in kp_driving:
            linear = kp_source["jacobian"] @ inverse(kp_driving["jacobian"])
        local = local_affine_motions(kp_source["value"], kp_driving["value"], linear, h, w)
        identity = coordinate_grid(h, w, like=local).expand(local.shape[0], 1, h, w, 2)
        return torch.cat([identity, local], dim=1)

    def forward(
        self, source: torch.Tensor, kp_source: Keypoints, kp_driving: Keypoints
    ) -> dict[str, torch.Tensor]:
        small = self.down(source)
        b, _, h, w = small.shape
        heat = heatmap_difference(
            kp_driving["value"], kp_source["value"], h, w, self.kp_variance, self.kp_variance
        )
        motions = self.sparse_motions(kp_source, kp_driving, h, w)
        deformed = deform_per_motion(small, motions, align_corners=self.align_corners)
        features = self.hourglass(torch.cat([heat[:, :, None], deformed], dim=2).view(b, -1, h, w))
        mask = F.softmax(self.mask(features), dim=1)
        out = {
            "mask": mask,
            "sparse_deformed": deformed,
            "deformation": blend_motions(mask, motions),
        }
        if self.occlusion is not None:
            out["occlusion_map"] = torch.sigmoid(self.occlusion(features))
        return out
