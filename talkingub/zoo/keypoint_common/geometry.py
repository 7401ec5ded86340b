"""Coordinate grids, heatmap statistics, Gaussian heatmaps and warping.

Convention (all three reference repositories): coordinates are (x, y) in [-1, 1] with -1 and 1
at the centres of the first and last pixels, so grids are sampled with align_corners=True.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def coordinate_grid(height: int, width: int, like: torch.Tensor | None = None) -> torch.Tensor:
    """[H, W, 2] grid of (x, y) in [-1, 1]."""
    dtype, device = (like.dtype, like.device) if like is not None else (None, None)
    xs = torch.linspace(-1.0, 1.0, width, dtype=dtype, device=device)
    ys = torch.linspace(-1.0, 1.0, height, dtype=dtype, device=device)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([xx, yy], dim=-1)


def spatial_softmax(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Softmax over the spatial positions of [B, K, H, W] logits."""
    b, k, h, w = logits.shape
    return F.softmax(logits.reshape(b, k, h * w) / temperature, dim=-1).view(b, k, h, w)


def heatmap_mean(heatmap: torch.Tensor) -> torch.Tensor:
    """Expected (x, y) position [B, K, 2] of normalised heatmaps [B, K, H, W]."""
    grid = coordinate_grid(heatmap.shape[-2], heatmap.shape[-1], like=heatmap)
    return torch.einsum("bkhw,hwc->bkc", heatmap, grid)


def heatmap_covariance(heatmap: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """Second central moment [B, K, 2, 2] of normalised heatmaps."""
    grid = coordinate_grid(heatmap.shape[-2], heatmap.shape[-1], like=heatmap)
    centred = grid[None, None] - mean[:, :, None, None, :]
    return torch.einsum("bkhw,bkhwi,bkhwj->bkij", heatmap, centred, centred)


def gaussian_heatmaps(
    centres: torch.Tensor, height: int, width: int, variance: float | torch.Tensor
) -> torch.Tensor:
    """exp(-0.5 d^T S^-1 d) around each centre [B, K, 2] -> [B, K, H, W].

    `variance` is a scalar (isotropic, FOMM's kp_variance) or covariances [B, K, 2, 2]
    (MRAA's `use_covar_heatmap`).
    """
    grid = coordinate_grid(height, width, like=centres)
    diff = grid[None, None] - centres[:, :, None, None, :]
    if not isinstance(variance, torch.Tensor):
        return torch.exp(-0.5 * (diff**2).sum(-1) / variance)
    precision = inverse(variance)
    mahalanobis = torch.einsum("bkhwi,bkij,bkhwj->bkhw", diff, precision, diff)
    return torch.exp(-0.5 * mahalanobis)


def full_precision(x: torch.Tensor) -> torch.Tensor:
    """float32 for half-precision tensors (AMP), unchanged otherwise."""
    return x.float() if x.element_size() < 4 else x


def inverse(matrices: torch.Tensor) -> torch.Tensor:
    """Batched matrix inverse, never in half precision (linalg has no fp16/bf16 kernels)."""
    return torch.linalg.inv(full_precision(matrices))


def to_homogeneous(points: torch.Tensor) -> torch.Tensor:
    return torch.cat([points, torch.ones_like(points[..., :1])], dim=-1)


def from_homogeneous(points: torch.Tensor) -> torch.Tensor:
    return points[..., :2] / points[..., 2:3]


def apply_homography(matrix: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Apply [B, 3, 3] to a [B, H, W, 2] grid of points."""
    moved = torch.einsum("bij,bhwj->bhwi", matrix, to_homogeneous(grid))
    return from_homogeneous(moved)


def resize_flow(flow: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Bilinearly resize a [B, h, w, 2] sampling grid to [B, H, W, 2]."""
    if flow.shape[1:3] == (height, width):
        return flow
    moved = F.interpolate(
        flow.permute(0, 3, 1, 2), size=(height, width), mode="bilinear", align_corners=True
    )
    return moved.permute(0, 2, 3, 1)


def warp(features: torch.Tensor, flow: torch.Tensor, padding: str = "zeros") -> torch.Tensor:
    """Backward-warp [B, C, H, W] features with a sampling grid (resized to match)."""
    flow = resize_flow(flow, *features.shape[-2:])
    return F.grid_sample(
        features, flow.to(features.dtype), padding_mode=padding, align_corners=True
    )


def resize_like(mask: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    if mask.shape[-2:] == features.shape[-2:]:
        return mask
    return F.interpolate(mask, size=features.shape[-2:], mode="bilinear", align_corners=True)
