"""Random affine + thin-plate-spline transform of the equivariance losses, and those losses.

T(x) = A x + b + sum_k w_k U(x - c_k): A, b = identity + N(0, sigma_affine), control points c_k on
a points_tps x points_tps grid, weights w_k ~ N(0, sigma_tps) (first-order-model@modules/model.py,
Transform). FOMM and MRAA use U(d) = r^2 log r with r the L1 norm of d
(articulated-animation@modules/model.py); TPSMM uses U(d) = r^2 log r^2 with r the Euclidean
norm (Thin-Plate-Spline-Motion-Model@modules/util.py, TPS mode 'random').
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

from talkingub.zoo.keypoint_common.geometry import coordinate_grid, inverse

Kernel = Literal["l1", "l2"]


@dataclass(frozen=True)
class TransformConfig:
    sigma_affine: float = 0.05
    sigma_tps: float = 0.005
    points_tps: int = 5


def radial_basis(diff: torch.Tensor, kernel: Kernel) -> torch.Tensor:
    """U(d) for offsets d [..., 2]."""
    if kernel == "l1":
        r = diff.abs().sum(-1)
        return r**2 * torch.log(r + 1e-6)
    r2 = (diff**2).sum(-1)
    return r2 * torch.log(r2 + 1e-9)


class RandomTPS:
    """One random transform per batch element; maps coordinates of the transformed frame back."""

    def __init__(
        self,
        batch: int,
        config: TransformConfig,
        kernel: Kernel = "l1",
        like: torch.Tensor | None = None,
    ) -> None:
        dtype, device = (like.dtype, like.device) if like is not None else (None, None)
        noise = torch.randn(batch, 2, 3, dtype=dtype, device=device) * config.sigma_affine
        self.theta = noise + torch.eye(2, 3, dtype=dtype, device=device)
        n = config.points_tps
        self.control_points = coordinate_grid(n, n, like=self.theta).view(-1, 2)
        self.control_params = (
            torch.randn(batch, n * n, dtype=dtype, device=device) * config.sigma_tps
        )
        self.kernel: Kernel = kernel

    def warp_coordinates(self, points: torch.Tensor) -> torch.Tensor:
        """Map points [B, N, 2] (or [1, N, 2]) through the transform -> [B, N, 2]."""
        theta = self.theta.to(points.dtype)
        moved = torch.einsum("bij,bnj->bni", theta[:, :, :2], points.expand(len(theta), -1, -1))
        moved = moved + theta[:, None, :, 2]
        diff = points[:, :, None, :] - self.control_points.to(points.dtype)[None, None]
        bend = (radial_basis(diff, self.kernel) * self.control_params[:, None, :]).sum(-1)
        return moved + bend[..., None]

    def jacobian(self, points: torch.Tensor) -> torch.Tensor:
        """d T / d x at each point [B, N, 2] -> [B, N, 2, 2] (rows: output x, y)."""
        with torch.enable_grad():
            pts = points if points.requires_grad else points.detach().requires_grad_(True)
            moved = self.warp_coordinates(pts)
            rows = [
                torch.autograd.grad(moved[..., i].sum(), pts, create_graph=True)[0]
                for i in range(2)
            ]
        return torch.stack(rows, dim=-2)

    def transform_frame(self, frame: torch.Tensor, *, align_corners: bool) -> torch.Tensor:
        """The randomly deformed frame (reflection padding as in the references), sampled with
        the model's convention (`align_corners`, see `geometry`)."""
        b, _, h, w = frame.shape
        grid = coordinate_grid(h, w, like=frame).view(1, h * w, 2)
        grid = self.warp_coordinates(grid).view(b, h, w, 2)
        return F.grid_sample(frame, grid, padding_mode="reflection", align_corners=align_corners)


def equivariance_value_loss(
    points: torch.Tensor, points_transformed: torch.Tensor, transform: RandomTPS
) -> torch.Tensor:
    """mean |x_driving - T(x_transformed)|."""
    return (points - transform.warp_coordinates(points_transformed)).abs().mean()


def equivariance_jacobian_loss(
    jacobian: torch.Tensor,
    points_transformed: torch.Tensor,
    jacobian_transformed: torch.Tensor,
    transform: RandomTPS,
    revert_axis_swap: bool = False,
) -> torch.Tensor:
    """mean |I - J_d^-1 (dT(x_t) J_t)|; MRAA flips the sign ambiguity of PCA axes first."""
    composed = transform.jacobian(points_transformed) @ jacobian_transformed
    value = inverse(jacobian) @ composed
    if revert_axis_swap:
        value = value * torch.sign(value[..., 0:1, 0:1])
    eye = torch.eye(2, dtype=value.dtype, device=value.device)
    return (eye - value).abs().mean()
