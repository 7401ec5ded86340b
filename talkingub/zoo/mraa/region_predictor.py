"""MRAA region predictor: hourglass -> K region heatmaps (spatial softmax); each region's shift is
the heatmap mean and its affine the PCA of the heatmap covariance, U diag(sqrt(S))
(articulated-animation@modules/region_predictor.py, paper Sec. 3.2)."""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.keypoint_common.antialias import AntiAliasDownsample
from talkingub.zoo.keypoint_common.geometry import heatmap_covariance, heatmap_mean, spatial_softmax
from talkingub.zoo.keypoint_common.hourglass import Hourglass
from talkingub.zoo.mraa.config import RegionPredictorConfig

Regions = dict[str, torch.Tensor]


def pca_affine(covar: torch.Tensor) -> torch.Tensor:
    """U diag(sqrt(S)) of the SVD of covariances [..., 2, 2] (computed in float64).

    Columns are the principal axes scaled by the standard deviations, so A A^T = covar.
    """
    u, s, _ = torch.linalg.svd(covar.double())
    return (u * s.clamp_min(0).sqrt()[..., None, :]).to(covar.dtype)


class RegionPredictor(nn.Module):
    def __init__(self, num_regions: int, num_channels: int, cfg: RegionPredictorConfig) -> None:
        super().__init__()
        self.temperature = cfg.temperature
        self.down = AntiAliasDownsample(num_channels, cfg.scale_factor)
        self.predictor = Hourglass(
            cfg.block_expansion, num_channels, cfg.num_blocks, cfg.max_features
        )
        self.regions = nn.Conv2d(self.predictor.out_filters, num_regions, 7, padding=cfg.pad)

    def forward(self, image: torch.Tensor) -> Regions:
        heatmap = spatial_softmax(self.regions(self.predictor(self.down(image))), self.temperature)
        shift = heatmap_mean(heatmap)
        covar = heatmap_covariance(heatmap, shift)
        return {"shift": shift, "covar": covar, "affine": pca_affine(covar), "heatmap": heatmap}
