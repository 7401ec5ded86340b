"""FOMM training losses besides the shared perceptual loss: LSGAN + feature matching and the
keypoint / Jacobian equivariance losses (first-order-model@modules/model.py)."""

from __future__ import annotations

import torch

from talkingub.zoo.fomm.config import LossWeights
from talkingub.zoo.fomm.discriminator import MultiScaleDiscriminator
from talkingub.zoo.fomm.keypoint_detector import KeypointDetector, Keypoints
from talkingub.zoo.keypoint_common.equivariance import (
    RandomTPS,
    TransformConfig,
    equivariance_jacobian_loss,
    equivariance_value_loss,
)


def generator_gan_losses(
    disc: MultiScaleDiscriminator, real: torch.Tensor, fake: torch.Tensor, weights: LossWeights
) -> dict[str, torch.Tensor]:
    """LSGAN generator term sum_s mean (1 - D_s(fake))^2 and weighted feature matching."""
    out_fake, out_real = disc(fake), disc(real)
    gan = sum(((1 - pred) ** 2).mean() for _, pred in out_fake)
    losses = {"gen_gan": weights.generator_gan * gan}
    if sum(weights.feature_matching) > 0:
        fm = fake.new_zeros(())
        for (feats_fake, _), (feats_real, _) in zip(out_fake, out_real):
            for w, a, b in zip(weights.feature_matching, feats_real, feats_fake):
                fm = fm + w * (a.detach() - b).abs().mean()
        losses["feature_matching"] = fm
    return losses


def discriminator_gan_loss(
    disc: MultiScaleDiscriminator, real: torch.Tensor, fake: torch.Tensor, weight: float
) -> torch.Tensor:
    """LSGAN discriminator term sum_s mean (1 - D_s(real))^2 + D_s(fake)^2."""
    total = real.new_zeros(())
    for (_, p_real), (_, p_fake) in zip(disc(real), disc(fake.detach())):
        total = total + ((1 - p_real) ** 2 + p_fake**2).mean()
    return weight * total


def equivariance_losses(
    detector: KeypointDetector,
    driving: torch.Tensor,
    kp_driving: Keypoints,
    weights: LossWeights,
    transform_cfg: TransformConfig,
    align_corners: bool,
) -> dict[str, torch.Tensor]:
    """Keypoints of a randomly deformed frame, mapped back, must match (value and Jacobian)."""
    transform = RandomTPS(driving.shape[0], transform_cfg, kernel="l1", like=driving)
    kp_t = detector(transform.transform_frame(driving, align_corners=align_corners))
    losses = {}
    if weights.equivariance_value:
        value = equivariance_value_loss(kp_driving["value"], kp_t["value"], transform)
        losses["equivariance_value"] = weights.equivariance_value * value
    if weights.equivariance_jacobian and "jacobian" in kp_driving:
        jac = equivariance_jacobian_loss(
            kp_driving["jacobian"], kp_t["value"], kp_t["jacobian"], transform
        )
        losses["equivariance_jacobian"] = weights.equivariance_jacobian * jac
    return losses
