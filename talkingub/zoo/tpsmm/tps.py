"""Thin-plate-spline transforms fitted to keypoint pairs (TPSMM paper eq. 1-2;
Thin-Plate-Spline-Motion-Model@modules/util.py, TPS mode 'kp').

For each of the K groups of N control points p (driving) and targets q (source), solve
([[U(|p_i - p_j|^2), P], [P^T, 0]] + lambda I) [w; A] = [q; 0], P = [p, 1], U(r2) = r2 log r2,
so that T(x) = [x, 1] A + sum_i w_i U(|x - p_i|^2) maps driving coordinates to source coordinates.
The reference adds lambda = 0.01 to the whole diagonal.

The transforms are computed in float32 with autocast off: in float16 the 1e-9 inside the log
underflows, so U(0) = 0 * log(0) is NaN on the diagonal and the first fp16 step diverges.
"""

from __future__ import annotations

import torch

from talkingub.zoo.keypoint_common.geometry import coordinate_grid, full_precision


def tps_kernel(r2: torch.Tensor) -> torch.Tensor:
    return r2 * torch.log(r2 + 1e-9)


def _float32(like: torch.Tensor) -> torch.autocast:
    return torch.autocast(like.device.type, enabled=False)


class KeypointTPS:
    def __init__(
        self, points: torch.Tensor, targets: torch.Tensor, regularisation: float = 0.01
    ) -> None:
        """points, targets: [B, K, N, 2]."""
        with _float32(points):
            self._fit(full_precision(points), full_precision(targets), regularisation)

    def _fit(self, points: torch.Tensor, targets: torch.Tensor, regularisation: float) -> None:
        b, k, n, _ = points.shape
        self.points = points
        r2 = ((points[:, :, :, None] - points[:, :, None, :]) ** 2).sum(-1)
        homog = torch.cat([points, torch.ones_like(points[..., :1])], dim=-1)
        top = torch.cat([tps_kernel(r2), homog], dim=-1)
        bottom = torch.cat([homog.transpose(-1, -2), points.new_zeros(b, k, 3, 3)], dim=-1)
        system = torch.cat([top, bottom], dim=-2)
        system = system + regularisation * torch.eye(
            n + 3, dtype=points.dtype, device=points.device
        )
        rhs = torch.cat([targets, targets.new_zeros(b, k, 3, 2)], dim=-2)
        params = torch.linalg.solve(system, rhs)
        self.weights, self.affine = params[..., :n, :], params[..., n:, :]

    def warp_coordinates(self, coords: torch.Tensor) -> torch.Tensor:
        """coords [B or 1, M, 2] -> [B, K, M, 2] (float32)."""
        with _float32(coords):
            return self._warp(full_precision(coords))

    def _warp(self, coords: torch.Tensor) -> torch.Tensor:
        homog = torch.cat([coords, torch.ones_like(coords[..., :1])], dim=-1)
        moved = torch.einsum("bmi,bkio->bkmo", homog.expand(len(self.affine), -1, -1), self.affine)
        r2 = ((coords[:, None, :, None] - self.points[:, :, None]) ** 2).sum(-1)
        return moved + tps_kernel(r2) @ self.weights

    def grid(self, height: int, width: int) -> torch.Tensor:
        """Sampling grids of the K transforms [B, K, H, W, 2]."""
        coords = coordinate_grid(height, width, like=self.points).view(1, -1, 2)
        b, k = self.points.shape[:2]
        return self.warp_coordinates(coords).view(b, k, height, width, 2)
