"""Coordinate grids, heatmap statistics, Gaussian heatmaps and warping.

Coordinates are (x, y) in [-1, 1] with -1 and 1 at the centres of the first and last pixels
(`make_coordinate_grid` of all three reference repositories). How `grid_sample` and bilinear
`interpolate` read such grids is not the same in the three, so the warping helpers take the
convention as an argument (`align_corners`, a per-model config setting):

- FOMM: no argument, under its pinned torch==1.0.0 (AliaksandrSiarohin/first-order-model
  requirements.txt from 69c890159ca9, 2019, until d861745, 2022), whose grid_sample behaved as
  align_corners=True (the argument and the False default came with torch 1.3,
  pytorch/pytorch#24929) -> True. Its bilinear `interpolate` calls (flow and occlusion resize,
  modules/generator.py) ran with interpolate's default since torch 0.4, False; with the
  published configs (dense motion at scale 0.25 = the generator's features after 2 down blocks)
  they only resize the flow for the `deformed` visualisation, never on the prediction's path,
  so the one setting covers both here.
- MRAA: no argument, under its pinned torch==1.4.0 (snap-research/articulated-animation
  requirements.txt @6b2029788185), whose defaults are align_corners=False -> False.
- TPSMM: align_corners=True passed explicitly to every grid_sample and bilinear interpolate
  (yoyo-nb/Thin-Plate-Spline-Motion-Model modules/dense_motion.py, inpainting_network.py,
  model.py @0ec14f6c06f5) -> True.

Nearest-neighbour resizing (the anti-alias subsampling, the up blocks) has no such argument.
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


def resize_flow(
    flow: torch.Tensor, height: int, width: int, *, align_corners: bool
) -> torch.Tensor:
    """Bilinearly resize a [B, h, w, 2] sampling grid to [B, H, W, 2]."""
    if flow.shape[1:3] == (height, width):
        return flow
    moved = F.interpolate(
        flow.permute(0, 3, 1, 2),
        size=(height, width),
        mode="bilinear",
        align_corners=align_corners,
    )
    return moved.permute(0, 2, 3, 1)


def warp(
    features: torch.Tensor, flow: torch.Tensor, padding: str = "zeros", *, align_corners: bool
) -> torch.Tensor:
    """Backward-warp [B, C, H, W] features with a sampling grid (resized to match)."""
    flow = resize_flow(flow, *features.shape[-2:], align_corners=align_corners)
    return F.grid_sample(
        features, flow.to(features.dtype), padding_mode=padding, align_corners=align_corners
    )


def resize_like(mask: torch.Tensor, features: torch.Tensor, *, align_corners: bool) -> torch.Tensor:
    """Bilinearly resize `mask` [B, C, h, w] to the spatial size of `features`."""
    if mask.shape[-2:] == features.shape[-2:]:
        return mask
    return F.interpolate(
        mask, size=features.shape[-2:], mode="bilinear", align_corners=align_corners
    )
