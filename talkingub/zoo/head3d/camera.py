"""The perspective camera of Head3D (Sec. 3.1, eq. 1-3, 5) on square head crops.

K (eq. 2): f = (W - 1) / (2 tan(theta_FOV / 2)), c_u = (W - 1) / 2, c_v = (H - 1) / 2, with
theta_FOV = 10 degrees and the subject about 1 m away (the paper, following Unsup3d).
A pixel q = (u, v, 1) with depth d is the 3-D point d K^-1 q. A head pose P = {R, t} moves a
canonical point X to R (X - C) + C + t, C = (0, 0, distance): the rotation turns about the
head's nominal centre as in Unsup3d's renderer (elliottwu/unsup3d@unsup3d/renderer/
renderer.py, `rotate_pts` about `rot_center_depth`); it is the SE(3) transform of eq. 3 with
t' = t + C - R C. Eq. 1 is its inverse, R^T (X - C - t) + C.

Eq. 1 and eq. 3 map the pixels of one image to another one (forward). Unsup3d does that by
rendering the depth mesh with a rasteriser, then sampling the image backwards; here the
rasteriser is replaced by splatting the moved points' depths bilinearly into the target pixels
under a soft z-buffer (weight exp(-sharpness * z), nearest surface wins), then the image is
sampled backwards through the splatted depth (`render`). Target pixels no point lands on are
holes (masked). The flow of eq. 5 (canonical head -> reference frame) needs no splatting: the
canonical depth is known at the canonical pixels (`canonical_grid`).

Everything here runs in float32 with autocast off (the splat sums and the projection need it).
Grids are in [-1, 1] with -1 and 1 at the centres of the first and last pixels
(grid_sample with align_corners=True).
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F

from talkingub.zoo.head3d.config import CameraConfig


@dataclasses.dataclass
class Pose:
    """Head poses: rotation [B, 3, 3] and translation [B, 3]."""

    rotation: torch.Tensor
    translation: torch.Tensor

    def __getitem__(self, index: slice | torch.Tensor) -> Pose:
        return Pose(self.rotation[index], self.translation[index])

    def repeat_interleave(self, n: int) -> Pose:
        return Pose(self.rotation.repeat_interleave(n, 0), self.translation.repeat_interleave(n, 0))


class Camera:
    """K of eq. 2 for a `size` x `size` image, the pose transforms and the warps."""

    def __init__(self, config: CameraConfig, size: int) -> None:
        self.config = config
        self.size = size
        self.focal = (size - 1) / (2.0 * math.tan(math.radians(config.fov_deg) / 2.0))
        self.centre = (size - 1) / 2.0
        self.far = config.distance + 2.0 * config.depth_range  # Unsup3d's margin beyond max

    # --- geometry -------------------------------------------------------------------------
    def pixels(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pixel coordinates (u, v), each [S, S]."""
        axis = torch.arange(self.size, dtype=torch.float32, device=like.device)
        v, u = torch.meshgrid(axis, axis, indexing="ij")
        return u, v

    def unproject(self, depth: torch.Tensor) -> torch.Tensor:
        """d K^-1 q for every pixel: depth [B, S, S] -> points [B, S, S, 3]."""
        u, v = self.pixels(depth)
        x = (u - self.centre) / self.focal
        y = (v - self.centre) / self.focal
        return depth[..., None] * torch.stack([x, y, torch.ones_like(x)], dim=-1)

    def project_pixels(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """K X / Z: points [B, S, S, 3] -> pixel coordinates (u, v)."""
        z = points[..., 2].clamp_min(1e-3)
        return (
            self.focal * points[..., 0] / z + self.centre,
            self.focal * points[..., 1] / z + self.centre,
        )

    def project(self, points: torch.Tensor) -> torch.Tensor:
        """Points [B, S, S, 3] -> sampling grid [B, S, S, 2] in [-1, 1] (align_corners)."""
        u, v = self.project_pixels(points)
        return torch.stack([u, v], dim=-1) / (self.size - 1) * 2.0 - 1.0

    def _points(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = points.reshape(points.shape[0], -1, 3)
        centre = flat.new_tensor([0.0, 0.0, self.config.distance])
        return flat, centre

    def to_view(self, points: torch.Tensor, pose: Pose) -> torch.Tensor:
        """Eq. 3: canonical points -> the camera frame of a view with head pose `pose`."""
        flat, centre = self._points(points)
        moved = (flat - centre) @ pose.rotation.float().transpose(1, 2) + centre
        return (moved + pose.translation.float()[:, None]).view_as(points)

    def to_canonical(self, points: torch.Tensor, pose: Pose) -> torch.Tensor:
        """Eq. 1: points of a view with head pose `pose` -> canonical points."""
        flat, centre = self._points(points)
        moved = flat - pose.translation.float()[:, None] - centre
        return (moved @ pose.rotation.float() + centre).view_as(points)

    # --- forward splatting ----------------------------------------------------------------
    def splat_depth(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The depth image [B, S, S] of moved points [B, S, S, 3] (soft z-buffer over the
        bilinear splats) and its coverage [B, S, S] (sum of the bilinear weights, <= 1)."""
        b, s = points.shape[0], self.size
        z = points[..., 2].clamp_min(1e-3)
        u, v = self.project_pixels(points)
        x0, y0 = u.floor(), v.floor()
        fx, fy = u - x0, v - y0
        nearest = z.detach().flatten(1).amin(1).view(b, 1, 1)
        importance = torch.exp(-self.config.splat_sharpness * (z - nearest))
        base = torch.arange(b, device=z.device).view(b, 1, 1) * s * s
        weight = z.new_zeros(b * s * s)
        depth_sum, cover = weight.clone(), weight.clone()
        for dx, dy, bilinear in (
            (0, 0, (1 - fx) * (1 - fy)),
            (1, 0, fx * (1 - fy)),
            (0, 1, (1 - fx) * fy),
            (1, 1, fx * fy),
        ):
            xi, yi = x0 + dx, y0 + dy
            inside = ((xi >= 0) & (xi < s) & (yi >= 0) & (yi < s)).float()
            index = (base + yi.clamp(0, s - 1).long() * s + xi.clamp(0, s - 1).long()).flatten()
            w = (bilinear * inside).flatten()
            cover = cover.index_add(0, index, w)
            weight = weight.index_add(0, index, w * importance.flatten())
            depth_sum = depth_sum.index_add(0, index, w * importance.flatten() * z.flatten())
        cover = cover.view(b, s, s)
        depth = (depth_sum / weight.clamp_min(1e-12)).view(b, s, s)
        hole = cover < self.config.min_coverage
        depth = torch.where(hole, torch.full_like(depth, self.far), depth)
        low = self.config.distance - 2.0 * self.config.depth_range
        return depth.clamp(low, self.far), cover.clamp(max=1.0) * (~hole).float()

    # --- warps ----------------------------------------------------------------------------
    def render_from_canonical(
        self, image: torch.Tensor, depth: torch.Tensor, pose: Pose
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. 3: the canonical `image` [B, C, S, S] with its `depth` seen in head pose
        `pose` -> (image [B, C, S, S], mask [B, 1, S, S]; holes and outside are 0)."""
        with torch.autocast(image.device.type, enabled=False):
            depth = depth.float()
            view_depth, cover = self.splat_depth(self.to_view(self.unproject(depth), pose))
            grid = self.project(self.to_canonical(self.unproject(view_depth), pose))
            return self._sample(image.float(), grid, cover)

    def render_to_canonical(
        self, image: torch.Tensor, depth: torch.Tensor, pose: Pose
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. 1: a view `image` with its `depth` and head pose `pose` -> the canonical frame
        (image, mask) as `render_from_canonical`."""
        with torch.autocast(image.device.type, enabled=False):
            depth = depth.float()
            canon_depth, cover = self.splat_depth(self.to_canonical(self.unproject(depth), pose))
            grid = self.project(self.to_view(self.unproject(canon_depth), pose))
            return self._sample(image.float(), grid, cover)

    def canonical_grid(self, depth: torch.Tensor, pose: Pose) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. 5: for each canonical pixel (canonical `depth` [B, S, S]), where it lies in the
        view with head pose `pose`: the backward flow f_{R<-C} as a sampling grid
        [B, S, S, 2], and the mask [B, 1, S, S] of canonical pixels that land in the view."""
        with torch.autocast(depth.device.type, enabled=False):
            grid = self.project(self.to_view(self.unproject(depth.float()), pose))
            return grid, _inside(grid)

    @staticmethod
    def _sample(
        image: torch.Tensor, grid: torch.Tensor, cover: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        out = F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        mask = cover[:, None] * _inside(grid)
        return out * mask, mask


def _inside(grid: torch.Tensor) -> torch.Tensor:
    """[B, 1, S, S]: 1 where the grid point lies in the image."""
    return (grid.abs() <= 1.0 + 1e-4).all(dim=-1)[:, None].float()


def sample_grid(features: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Backward warp of `features` [B, C, h, w] with a grid [B, S, S, 2] resized to (h, w)."""
    h, w = features.shape[-2:]
    if grid.shape[1:3] != (h, w):
        grid = F.interpolate(
            grid.permute(0, 3, 1, 2), size=(h, w), mode="bilinear", align_corners=True
        ).permute(0, 2, 3, 1)
    return F.grid_sample(
        features, grid.to(features.dtype), padding_mode="zeros", align_corners=True
    )
