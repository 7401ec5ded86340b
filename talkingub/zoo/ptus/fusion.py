"""Face/body feature fusion before decoding (PTUS, "Method", Overview and Fig. 3 (c)).

The paper: "The 3D-aware warping module first transfers the learned large-scale 3D motions of
the face and upperbody to the extracted source 3D features of the source image and then
transfers the decomposed 3D face motion to the initial warped features for the fine-grained
warping. After obtaining the refined 3D facial features, we combine them with the body
features and a generation module is utilized to decode the combined features to the target
image." Fig. 3 (c): the module "generates the target image with the initial and refined facial
features". The paper gives no formula for the combination (the supplementary is not public);
our design:

    f = M * f_re + (1 - M) * f_init

f_init: the body-warped volume of eq. 8 (all keypoint sets, global motion); f_re: the refined
volume of eq. 9 (f_init warped again by the local face motion); M [B, 1, 1, H, W]: a soft
face-region mask, constant over depth and channels, built from the face box in the output
(driving) frame: 0 outside the box, rising linearly to 1 at `fusion_feather` x the box side
inside each edge. So the refined face features replace the body features only inside the
face region; everywhere else the decoder sees f_init exactly.

The face box is the face crop box the face branch sees (x0, y0, x1, y1 in [0, 1] of the full
frame). In training and absolute animation the output is the driving frame, so the box is the
driving box; in relative animation it moves like the keypoints do:
box_S + (box_D,t - box_D,0), clipped to the frame (`target_box`).
"""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.osfv.blocks import coordinate_grid_2d


def target_box(
    source: torch.Tensor, driving: torch.Tensor, reference: torch.Tensor
) -> torch.Tensor:
    """The face box in the output frame: box_S + (box_D - box_ref), clipped to [0, 1].

    Absolute motion (reference is the source box) gives the driving box.
    """
    if reference is source:
        return driving.clamp(0.0, 1.0)
    return (source + (driving - reference)).clamp(0.0, 1.0)


def face_region_mask(
    box: torch.Tensor, height: int, width: int, feather: float, like: torch.Tensor
) -> torch.Tensor:
    """Soft mask [B, 1, 1, H, W] of box [B, 4] (x0, y0, x1, y1 in [0, 1]) on the volume grid.

    Exactly 0 outside the box and exactly 1 deeper than `feather` x box side inside it; the
    grid is the `align_corners=True` one the warping samples on.
    """
    grid = coordinate_grid_2d(height, width, like.float())  # [H, W, 2] in [-1, 1]
    xs, ys = grid[0, :, 0], grid[:, 0, 1]
    edges = box.float() * 2.0 - 1.0  # -> [-1, 1]
    x0, y0, x1, y1 = (e[:, None] for e in edges.unbind(-1))

    def ramp(pos: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        inside = torch.minimum(pos - low, high - pos)  # distance to the nearer edge, < 0 outside
        width_ = (feather * (high - low)).clamp_min(1e-6)
        return (inside / width_).clamp(0.0, 1.0)

    mask_x, mask_y = ramp(xs, x0, x1), ramp(ys, y0, y1)  # [B, W], [B, H]
    mask = mask_y[:, :, None] * mask_x[:, None, :]
    return mask[:, None, None].to(like.dtype)


class FaceBodyFusion(nn.Module):
    """f = M * f_re + (1 - M) * f_init with the face-region mask M (no parameters)."""

    def __init__(self, feather: float) -> None:
        super().__init__()
        self.feather = feather

    def mask(self, box: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """M [B, 1, 1, H, W] for a volume `like` [B, C, D, H, W]."""
        return face_region_mask(box, like.shape[-2], like.shape[-1], self.feather, like)

    def forward(self, body: torch.Tensor, face: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
        """body = f_init, face = f_re [B, C, D, H, W]; box [B, 4] in the output frame."""
        mask = self.mask(box, face)
        return mask * face + (1.0 - mask) * body

    def extra_repr(self) -> str:
        return f"feather={self.feather}"
