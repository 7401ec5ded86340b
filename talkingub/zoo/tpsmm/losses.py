"""TPSMM training losses besides the perceptual loss: keypoint equivariance, warp loss and
background cycle loss (Thin-Plate-Spline-Motion-Model@modules/model.py, paper Sec. 3.5)."""

from __future__ import annotations

import torch

from talkingub.zoo.keypoint_common.equivariance import (
    RandomTPS,
    TransformConfig,
    equivariance_value_loss,
)
from talkingub.zoo.tpsmm.bg_motion_predictor import BGMotionPredictor
from talkingub.zoo.tpsmm.inpainting import InpaintingNetwork
from talkingub.zoo.tpsmm.keypoint_detector import KeypointDetector


def equivariance_loss(
    detector: KeypointDetector,
    driving: torch.Tensor,
    kp_driving: torch.Tensor,
    cfg: TransformConfig,
    align_corners: bool,
) -> torch.Tensor:
    """mean |kp(driving) - T(kp(T-deformed driving))| with the Euclidean TPS kernel."""
    transform = RandomTPS(driving.shape[0], cfg, kernel="l2", like=driving)
    kp_t = detector(transform.transform_frame(driving, align_corners=align_corners))
    return equivariance_value_loss(kp_driving, kp_t, transform)


def warp_loss(
    inpainting: InpaintingNetwork,
    driving: torch.Tensor,
    masks: list[torch.Tensor],
    warped_maps: list[torch.Tensor],
) -> torch.Tensor:
    """sum over levels of mean |E(driving) O - warp(E(source)) O|; gradient only via the flow."""
    targets = inpainting.encode_driving(driving, masks)
    return sum(
        ((t - w).abs().mean() for t, w in zip(targets, reversed(warped_maps))),
        driving.new_zeros(()),
    )


def background_loss(
    bg: BGMotionPredictor, source: torch.Tensor, driving: torch.Tensor, forward: torch.Tensor
) -> torch.Tensor:
    """mean |I - A_{s->d} A_{d->s}|: the two background affines must be inverse to each other."""
    product = forward @ bg(driving, source)
    return (torch.eye(3, dtype=product.dtype, device=product.device) - product).abs().mean()
