"""MRAA animation via disentanglement: the shared AVD network on region parameters
(shift + affine, 6 numbers per region; articulated-animation@modules/avd_network.py)."""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.keypoint_common.avd import AVDNetwork, random_scale
from talkingub.zoo.keypoint_common.config import AVDConfig
from talkingub.zoo.keypoint_common.geometry import inverse
from talkingub.zoo.mraa.region_predictor import Regions


def regions_to_vector(regions: Regions) -> torch.Tensor:
    b, k = regions["shift"].shape[:2]
    return torch.cat([regions["shift"], regions["affine"].reshape(b, k, 4)], dim=-1).view(b, -1)


def vector_to_regions(vector: torch.Tensor, num_regions: int) -> Regions:
    per_region = vector.view(len(vector), num_regions, 6)
    affine = per_region[..., 2:].reshape(len(vector), num_regions, 2, 2)
    return {
        "shift": per_region[..., :2],
        "affine": affine,
        "covar": affine @ affine.transpose(-1, -2),
    }


class RegionAVD(nn.Module):
    def __init__(self, num_regions: int, cfg: AVDConfig, revert_axis_swap: bool) -> None:
        super().__init__()
        self.num_regions = num_regions
        self.revert_axis_swap = revert_axis_swap
        self.network = AVDNetwork(6 * num_regions, cfg.id_bottle_size, cfg.pose_bottle_size)

    def forward(self, identity: Regions, pose: Regions) -> Regions:
        """Driving pose on the source's region shapes (axis flips aligned to the pose first)."""
        if self.revert_axis_swap:
            rel = identity["affine"] @ inverse(pose["affine"])
            identity = {
                "shift": identity["shift"],
                "affine": identity["affine"] * torch.sign(rel[..., 0:1, 0:1]),
            }
        rec = self.network(regions_to_vector(identity), regions_to_vector(pose))
        return vector_to_regions(rec, self.num_regions)


def avd_losses(
    avd: RegionAVD, source: Regions, driving: Regions, cfg: AVDConfig
) -> dict[str, torch.Tensor]:
    """Reconstruct the driving regions from the source identity and a randomly scaled pose."""
    shift, affine = random_scale([driving["shift"], driving["affine"]], cfg.random_scale)
    pose = {"shift": shift, "affine": affine}
    rec = avd(source, pose)
    rec_shift = cfg.lambda_shift * (driving["shift"] - rec["shift"]).abs().mean()
    rec_affine = cfg.lambda_affine * (driving["affine"] - rec["affine"]).abs().mean()
    return {"rec_shift": rec_shift, "rec_affine": rec_affine, "total": rec_shift + rec_affine}
