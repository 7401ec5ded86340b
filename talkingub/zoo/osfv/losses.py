"""OSFV training losses (Sec. 3.3): perceptual, GAN + feature matching, equivariance,
keypoint prior, head pose and deformation prior; PTUS eq. 10 reuses them.

Weights, D_t = 0.1, Z_t = 0.33, the random-TPS equivariance transform (sigma_affine 0.05,
sigma_tps 0.005, 5x5 control points) and the hinge GAN follow
zhanglonghao1992/One-Shot_Free-View_Neural_Talking_Head_Synthesis@modules/model.py and
config/vox-256.yaml. Every function returns an already weighted scalar.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from talkingub.zoo.osfv.blocks import coordinate_grid_2d
from talkingub.zoo.osfv.config import EquivarianceConfig, LossConfig
from talkingub.zoo.osfv.head_pose import HeadPose, bins_to_degrees

DiscOutput = list[tuple[list[torch.Tensor], torch.Tensor]]


class RandomTPS:
    """Random affine + thin-plate-spline warp of normalised 2-D coordinates (FOMM's Transform)."""

    def __init__(self, batch: int, cfg: EquivarianceConfig, like: torch.Tensor) -> None:
        dtype, device = like.dtype, like.device
        eye = torch.eye(2, 3, dtype=dtype, device=device).unsqueeze(0)
        self.theta = eye + cfg.sigma_affine * torch.randn(batch, 2, 3, dtype=dtype, device=device)
        self.points = coordinate_grid_2d(cfg.points_tps, cfg.points_tps, like).reshape(1, -1, 2)
        self.params = cfg.sigma_tps * torch.randn(
            batch, 1, cfg.points_tps**2, dtype=dtype, device=device
        )

    def warp(self, coords: torch.Tensor) -> torch.Tensor:
        """coords [B, N, 2] -> [B, N, 2]."""
        out = coords @ self.theta[:, :, :2].transpose(1, 2) + self.theta[:, :, 2].unsqueeze(1)
        dist = (coords.unsqueeze(2) - self.points.unsqueeze(1)).abs().sum(-1)
        radial = dist.pow(2) * torch.log(dist + 1e-6)
        return out + (radial * self.params).sum(-1, keepdim=True)

    def warp_image(self, image: torch.Tensor) -> torch.Tensor:
        b, _, h, w = image.shape
        grid = coordinate_grid_2d(h, w, image).reshape(1, -1, 2).expand(b, -1, -1)
        grid = self.warp(grid).view(b, h, w, 2)
        return F.grid_sample(image, grid, padding_mode="reflection", align_corners=True)


def equivariance_loss(
    kp_driving: torch.Tensor, kp_transformed: torch.Tensor, tps: RandomTPS, w: float
) -> torch.Tensor:
    """|x_d - T(x_T(d))| on the (x, y) projection, x_T(d) from the warped driving frame."""
    return w * (kp_driving[..., :2] - tps.warp(kp_transformed[..., :2])).abs().mean()


def keypoint_prior(kp: torch.Tensor, cfg: LossConfig) -> torch.Tensor:
    """sum_{i != j} max(0, D_t - ||x_i - x_j||^2) + |mean_k z_k - Z_t| (batch means).

    The reference also sums the i == j pairs, a constant K * D_t without gradient; left out.
    """
    d2 = (kp.unsqueeze(1) - kp.unsqueeze(2)).pow(2).sum(-1)
    off = ~torch.eye(kp.shape[1], dtype=torch.bool, device=kp.device)
    spread = F.relu(cfg.keypoint_distance - d2)[:, off].sum(-1).mean()
    depth = (kp[..., 2].mean(-1) - cfg.keypoint_depth).abs().mean()
    return cfg.keypoint_prior * (spread + depth)


def deformation_prior(pose: HeadPose, w: float) -> torch.Tensor:
    """L1 norm of the expression deformation delta, mean over the batch."""
    return w * pose.expression.abs().flatten(1).sum(-1).mean()


def head_pose_loss(pose: HeadPose, teacher: tuple[torch.Tensor, ...], w: float) -> torch.Tensor:
    """Mean absolute difference in degrees to the Hopenet teacher's yaw, pitch and roll."""
    ours = (pose.yaw, pose.pitch, pose.roll)
    total = sum(
        (bins_to_degrees(a) - bins_to_degrees(b)).abs().mean() for a, b in zip(ours, teacher)
    )
    return w * torch.as_tensor(total)


def generator_gan_loss(fake: DiscOutput, cfg: LossConfig) -> torch.Tensor:
    terms = [
        -logits.mean() if cfg.gan_mode == "hinge" else (1 - logits).pow(2).mean()
        for _, logits in fake
    ]
    return cfg.generator_gan * torch.stack(terms).sum()


def feature_matching_loss(real: DiscOutput, fake: DiscOutput, cfg: LossConfig) -> torch.Tensor:
    total = fake[0][1].new_zeros(())
    for (real_feats, _), (fake_feats, _) in zip(real, fake):
        for w, a, b in zip(cfg.feature_matching, real_feats, fake_feats):
            total = total + w * (a.detach() - b).abs().mean()
    return total


def discriminator_loss(real: DiscOutput, fake: DiscOutput, cfg: LossConfig) -> torch.Tensor:
    terms = []
    for (_, r), (_, f) in zip(real, fake):
        if cfg.gan_mode == "hinge":
            terms.append(F.relu(1 - r).mean() + F.relu(1 + f).mean())
        else:
            terms.append((1 - r).pow(2).mean() + f.pow(2).mean())
    return cfg.discriminator_gan * torch.stack(terms).sum()
