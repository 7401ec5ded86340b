"""The losses of Head3D's three stages.

Stage 1 (eq. 4): l_geo = ||x_bar_dri - x_dri||_1 + lambda_sym L_sym(x_bar^c) +
lambda_D L_D(d_bar^c), L_sym = ||x_bar^c - flip(x_bar^c)||_1 and L_D "the depth smoothness
loss used in [11]" (Godard et al., CVPR 2017: the depth gradients weighted by
exp(-|image gradient|), an edge-aware smoothness; the image is x_bar^c, the depth d_bar^c).
Stage 2 (eq. 6): l_head = ||x_hat_dri - x_dri||_1.
Stage 3 (eq. 8): l_frame = L_rec(s_hat_dri, s_dri), the multi-scale VGG-19 perceptual loss of
FOMM/MRAA (`talkingub.zoo.common.perceptual`), "and also ... the equivariance loss [36] to
stabilize the training". FOMM's equivariance acts on keypoints, which Head3D has none of; here
it acts on Phi's two flows (our reading): for a random thin-plate-spline warp T of the driving
frame (FOMM's transform and its sigmas), the flows predicted for the warped frame must equal
the flows of the original one sampled at T, f'(p) = f(T(p)), mean L1, weighted like FOMM's
equivariance terms (10).
Every L1 is a mean over the pixels (and channels).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from talkingub.zoo.head3d.fusion import Prediction


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a.float() - b.float()).abs().mean()


def symmetry(image: torch.Tensor) -> torch.Tensor:
    """L_sym: ||x - flip(x)||_1, flip = horizontal."""
    return l1(image, image.flip(-1))


def depth_smoothness(depth: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """L_D of [11]: mean |d_x depth| exp(-|d_x I|) + mean |d_y depth| exp(-|d_y I|), the image
    gradient averaged over the channels. depth [B, S, S], image [B, 3, S, S]."""
    d = depth.float()[:, None]
    img = image.float()
    dx, dy = d[..., :, 1:] - d[..., :, :-1], d[..., 1:, :] - d[..., :-1, :]
    ix = (img[..., :, 1:] - img[..., :, :-1]).abs().mean(1, keepdim=True)
    iy = (img[..., 1:, :] - img[..., :-1, :]).abs().mean(1, keepdim=True)
    return (dx.abs() * torch.exp(-ix)).mean() + (dy.abs() * torch.exp(-iy)).mean()


def flow_equivariance(original: Prediction, warped: Prediction, grid: torch.Tensor) -> torch.Tensor:
    """Mean |f'(p) - f(T(p))| over both flows; `grid` [B, h, w, 2]: T at the flows' pixels."""
    total = grid.new_zeros(())
    for f, f_warped in (
        (original.head_flow, warped.head_flow),
        (original.ref_flow, warped.ref_flow),
    ):
        moved = F.grid_sample(
            f.permute(0, 3, 1, 2).float(), grid.float(), padding_mode="border", align_corners=True
        )
        total = total + l1(f_warped.permute(0, 3, 1, 2), moved)
    return total / 2
