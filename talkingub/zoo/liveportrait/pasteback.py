"""Face crop from an upper-body frame and paste-back into it, as LivePortrait's own pipeline
does around the network (differentiable, batched, on the GPU).

[R] (KwaiVGI/LivePortrait@1986663b) crops a square around the face landmarks of side
2.3 x their extent, its centre moved by -0.125 x the side along the face's vertical axis
(src/config/crop_config.py scale / vy_ratio, src/utils/crop.py parse_rect_from_landmark), and
pastes the animated crop back through mask_template.png, a 512^2 mask that ramps linearly from
0 to 1 over the outer 16 pixels (1/32 of the side) of every edge (src/utils/crop.py paste_back).
Here the face box of the Talking-UB build stands in for the landmark extent and the crop is
not rotated (the build keeps no in-plane angle): a documented deviation. Coordinates: boxes are
normalised (x0, y0, x1, y1) in [0, 1] of the frame; crop-space coordinates are [-1, 1].
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F

from talkingub.zoo.liveportrait.config import CropConfig


@dataclasses.dataclass
class CropWindow:
    """Square crop windows in a frame: centre (cx, cy) and half sizes (hx, hy), normalised."""

    center: torch.Tensor  # [B, 2] in [0, 1]
    half: torch.Tensor  # [B, 2] in frame fractions (hx = side / (2 W))
    frame: tuple[int, int]  # (H, W) of the frame

    def theta(self) -> torch.Tensor:
        """affine_grid matrices mapping crop space [-1, 1] into frame space [-1, 1]."""
        b = self.center.shape[0]
        out = self.center.new_zeros(b, 2, 3)
        out[:, 0, 0], out[:, 1, 1] = 2 * self.half[:, 0], 2 * self.half[:, 1]
        out[:, :, 2] = 2 * self.center - 1
        return out

    def inverse_theta(self) -> torch.Tensor:
        """affine_grid matrices mapping frame space into crop space."""
        b = self.center.shape[0]
        out = self.center.new_zeros(b, 2, 3)
        scale = 1.0 / (2 * self.half)
        out[:, 0, 0], out[:, 1, 1] = scale[:, 0], scale[:, 1]
        out[:, :, 2] = -(2 * self.center - 1) * scale
        return out

    def side_pixels(self) -> float:
        """The largest crop side in frame pixels in the batch."""
        return float((2 * self.half[:, 0] * self.frame[1]).max())

    def box_in_crop(self, box: torch.Tensor) -> torch.Tensor:
        """Normalised frame boxes [B, 4] -> the same boxes in crop space [-1, 1]."""
        lo = (box[:, :2] - self.center) / (2 * self.half)
        hi = (box[:, 2:] - self.center) / (2 * self.half)
        return torch.cat([lo, hi], dim=1) * 2


def crop_windows(face_box: torch.Tensor, frame: tuple[int, int], cfg: CropConfig) -> CropWindow:
    """The crop around each face box: side = scale * max box side (pixels), centre shifted."""
    box = face_box.float()
    h, w = frame
    side = cfg.scale * torch.maximum((box[:, 2] - box[:, 0]) * w, (box[:, 3] - box[:, 1]) * h)
    side = side.clamp_min(4.0)
    cx = (box[:, 0] + box[:, 2]) / 2
    cy = (box[:, 1] + box[:, 3]) / 2 + cfg.shift_y * side / h
    half = torch.stack([side / (2 * w), side / (2 * h)], dim=1)
    return CropWindow(torch.stack([cx, cy], dim=1), half, frame)


def crop(images: torch.Tensor, window: CropWindow, size: int) -> torch.Tensor:
    """[B, 3, H, W] frames -> [B, 3, size, size] crops (zeros outside the frame)."""
    grid = F.affine_grid(window.theta(), [images.shape[0], 3, size, size], align_corners=False)
    return F.grid_sample(images, grid.to(images.dtype), align_corners=False)


def crop_region(images: torch.Tensor, box: torch.Tensor, size: int) -> torch.Tensor:
    """Crop-space boxes [B, 4] in [-1, 1] of `images` -> [B, 3, size, size] (region losses)."""
    b = images.shape[0]
    theta = box.new_zeros(b, 2, 3)
    theta[:, 0, 0] = (box[:, 2] - box[:, 0]) / 2
    theta[:, 1, 1] = (box[:, 3] - box[:, 1]) / 2
    theta[:, 0, 2] = (box[:, 2] + box[:, 0]) / 2
    theta[:, 1, 2] = (box[:, 3] + box[:, 1]) / 2
    grid = F.affine_grid(theta.float(), [b, 3, size, size], align_corners=False)
    return F.grid_sample(images, grid.to(images.dtype), align_corners=False)


def feather_mask(size: int, feather: float, like: torch.Tensor) -> torch.Tensor:
    """[1, 1, size, size]: 1 inside, a linear ramp to 0 over `feather` of the side at each edge."""
    u = torch.linspace(-1.0, 1.0, size, device=like.device)
    ramp = ((1.0 - u.abs()) / (2 * max(feather, 1e-6))).clamp(0.0, 1.0)
    return torch.minimum(ramp[:, None], ramp[None, :])[None, None].to(like.dtype)


def paste(
    animated: torch.Tensor, frame: torch.Tensor, window: CropWindow, feather: float
) -> torch.Tensor:
    """Blend animated crops [B, 3, s, s] into frames [B, 3, H, W] through the feathered mask.

    The crop is first resized (antialiased) to about its size in the frame, so the inverse
    warp does not alias."""
    side = max(8, round(window.side_pixels()))
    if side < animated.shape[-1]:
        animated = F.interpolate(
            animated.float(), size=(side, side), mode="bilinear", antialias=True
        ).to(animated.dtype)
    b, _, h, w = frame.shape
    grid = F.affine_grid(window.inverse_theta(), [b, 3, h, w], align_corners=False)
    mask = feather_mask(animated.shape[-1], feather, animated).expand(b, 1, -1, -1)
    layers = torch.cat([animated, mask], dim=1)
    warped = F.grid_sample(layers, grid.to(layers.dtype), align_corners=False)
    alpha = warped[:, 3:]
    return alpha * warped[:, :3] + (1 - alpha) * frame.to(warped.dtype)
