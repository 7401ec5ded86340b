"""TPSMM animation via disentanglement: the shared AVD network on the K*5 keypoints
(Thin-Plate-Spline-Motion-Model@modules/avd_network.py, train_avd.py)."""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.keypoint_common.avd import AVDNetwork, random_scale
from talkingub.zoo.keypoint_common.config import AVDConfig


class KeypointAVD(nn.Module):
    def __init__(self, num_points: int, cfg: AVDConfig) -> None:
        super().__init__()
        self.network = AVDNetwork(2 * num_points, cfg.id_bottle_size, cfg.pose_bottle_size)

    def forward(self, identity: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        """Keypoints [B, N, 2] of the source (identity) and driving (pose) -> [B, N, 2]."""
        rec = self.network(identity.flatten(1), pose.flatten(1))
        return rec.view_as(pose)


def avd_losses(
    avd: KeypointAVD, kp_source: torch.Tensor, kp_driving: torch.Tensor, cfg: AVDConfig
) -> dict[str, torch.Tensor]:
    (pose,) = random_scale([kp_driving], cfg.random_scale)
    loss = cfg.lambda_shift * (kp_driving - avd(kp_source, pose)).abs().mean()
    return {"rec_kp": loss, "total": loss}
