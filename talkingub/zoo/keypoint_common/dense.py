"""Sparse-to-dense motion pieces of the dense-motion / pixelwise-flow networks.

K local motions plus a background motion are each applied to the (downsampled) source; a
hourglass predicts K+1 soft masks that blend the motions into one backward flow
(first-order-model@modules/dense_motion.py, eq. 4-7 of the FOMM paper).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from talkingub.zoo.keypoint_common.geometry import coordinate_grid, gaussian_heatmaps


def heatmap_difference(
    centres_driving: torch.Tensor,
    centres_source: torch.Tensor,
    height: int,
    width: int,
    var_driving: float | torch.Tensor,
    var_source: float | torch.Tensor,
) -> torch.Tensor:
    """Gaussians at the driving minus at the source points, a zero background channel first.

    -> [B, K+1, H, W]
    """
    diff = gaussian_heatmaps(centres_driving, height, width, var_driving) - gaussian_heatmaps(
        centres_source, height, width, var_source
    )
    return torch.cat([torch.zeros_like(diff[:, :1]), diff], dim=1)


def local_affine_motions(
    centres_source: torch.Tensor,
    centres_driving: torch.Tensor,
    linear: torch.Tensor | None,
    height: int,
    width: int,
) -> torch.Tensor:
    """T_k(z) = c_s + A_k (z - c_d) on the grid -> [B, K, H, W, 2] (A_k = I if `linear` is None)."""
    grid = coordinate_grid(height, width, like=centres_source)
    offset = grid[None, None] - centres_driving[:, :, None, None, :]
    if linear is not None:
        offset = torch.einsum("bkij,bkhwj->bkhwi", linear, offset)
    return offset + centres_source[:, :, None, None, :]


def deform_per_motion(
    source: torch.Tensor, motions: torch.Tensor, *, align_corners: bool
) -> torch.Tensor:
    """Warp the source [B, C, H, W] by each of M grids [B, M, H, W, 2] -> [B, M, C, H, W]
    (`align_corners`: the model's sampling convention, see `geometry`)."""
    b, m, h, w, _ = motions.shape
    repeated = source[:, None].expand(b, m, *source.shape[1:]).reshape(b * m, -1, h, w)
    grid = motions.reshape(b * m, h, w, 2)
    warped = F.grid_sample(repeated, grid, align_corners=align_corners)
    return warped.view(b, m, -1, h, w)


def blend_motions(masks: torch.Tensor, motions: torch.Tensor) -> torch.Tensor:
    """sum_m mask_m(z) T_m(z): masks [B, M, H, W], motions [B, M, H, W, 2] -> [B, H, W, 2]."""
    return torch.einsum("bmhw,bmhwc->bhwc", masks, motions)
