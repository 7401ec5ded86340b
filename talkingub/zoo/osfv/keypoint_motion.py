"""Keypoint motion: canonical keypoints + head pose + expression -> observation-space keypoints.

One `KeypointMotion` is a canonical keypoint detector plus a head pose / expression estimator
(OSFV eq. 1: x = R x_c + t + delta). OSFV has one; PTUS has one for the face and one for the
upper body (PTUS eq. 1-4).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from talkingub.zoo.osfv.config import EquivarianceConfig, LossConfig, OSFVConfig
from talkingub.zoo.osfv.head_pose import HeadPose, HeadPoseEstimator, transform_keypoints
from talkingub.zoo.osfv.keypoints import CanonicalKeypointDetector
from talkingub.zoo.osfv.losses import (
    RandomTPS,
    deformation_prior,
    equivariance_loss,
    keypoint_prior,
)


@dataclasses.dataclass
class KeypointState:
    """Canonical keypoints of the source and one observation (pose, expression, keypoints)."""

    canonical: torch.Tensor  # [B, K, 3]
    pose: HeadPose
    rotation: torch.Tensor  # [B, 3, 3]
    keypoints: torch.Tensor  # [B, K, 3] = R x_c + t + delta


class KeypointMotion(nn.Module):
    def __init__(self, config: OSFVConfig) -> None:
        super().__init__()
        self.detector = CanonicalKeypointDetector(config)
        self.estimator = HeadPoseEstimator(config)

    def observe(self, canonical: torch.Tensor, image: torch.Tensor) -> KeypointState:
        """Place the (source) canonical keypoints in the pose and expression of `image`."""
        pose = self.estimator(image)
        rotation = pose.rotation()
        kp = transform_keypoints(canonical, rotation, pose.translation, pose.expression)
        return KeypointState(canonical, pose, rotation, kp)

    def regularizers(
        self,
        driving: KeypointState,
        driving_image: torch.Tensor,
        loss: LossConfig,
        eq: EquivarianceConfig,
    ) -> dict[str, torch.Tensor]:
        """Equivariance, keypoint prior and deformation prior on the driving observation."""
        out = {
            "keypoint_prior": keypoint_prior(driving.keypoints, loss),
            "deformation_prior": deformation_prior(driving.pose, loss.deformation_prior),
        }
        if loss.equivariance:
            tps = RandomTPS(driving_image.shape[0], eq, driving_image)
            warped = self.observe(driving.canonical, tps.warp_image(driving_image))
            out["equivariance"] = equivariance_loss(
                driving.keypoints, warped.keypoints, tps, loss.equivariance
            )
        return out
