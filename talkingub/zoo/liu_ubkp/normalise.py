"""Global pose normalisation between the source (driving) and the target body (paper Sec. 3:
"the global pose normalization method presented in [6]", Everybody Dance Now).

[6] maps the source's keypoints into the target's frame with one scale and one translation
per video, measured on the feet (ankle heights at the nearest and farthest positions). An
upper-body crop shows no feet, so here (our adaptation, stated in the README) the scale is
the ratio of the median shoulder widths and the translation moves the source's median neck
(shoulder midpoint) onto the target's:

    p' = (p - neck_source) * (width_target / width_source) + neck_target

applied to every keypoint and to the face box's corners. The target's statistics are those
of the frames its model trained on (`PersonStats`, accumulated by the model while it trains
and saved with its weights); the source's are the driving sequence's own, as [6] measures
the source video. The FAUP vector needs no such normalisation in the paper (OpenFace's units
are identity-free); our geometric stand-ins (`au.py`) are not entirely, so a cross-identity
drive also moves the source's FAUP mean onto the target's (`shift_faup`; our choice).
"""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.liu_ubkp.au import NUM_FAUP
from talkingub.zoo.liu_ubkp.keypoints import LEFT_SHOULDER, RIGHT_SHOULDER


def shoulder_width(pose: torch.Tensor) -> torch.Tensor:
    """[..., 33, 3] -> [...] distance between the shoulders (crop units)."""
    return (pose[..., LEFT_SHOULDER, :2] - pose[..., RIGHT_SHOULDER, :2]).float().norm(dim=-1)


def neck(pose: torch.Tensor) -> torch.Tensor:
    """[..., 33, 3] -> [..., 2] the shoulders' midpoint."""
    return ((pose[..., LEFT_SHOULDER, :2] + pose[..., RIGHT_SHOULDER, :2]) / 2).float()


def sequence_stats(pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, T, 33, 3] -> (median shoulder width [B], median neck [B, 2]) over the T frames."""
    width = shoulder_width(pose).median(dim=1).values
    centre = neck(pose).median(dim=1).values
    return width, centre


def normalise_pose(
    pose: torch.Tensor,
    box: torch.Tensor,
    source: tuple[torch.Tensor, torch.Tensor],
    target: tuple[torch.Tensor, torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, T, 33, 3] pose and [B, T, 4] face boxes mapped from the `source` statistics
    (width [B], neck [B, 2]) to the `target` ones."""
    (w_s, n_s), (w_t, n_t) = source, target
    scale = (w_t / w_s.clamp_min(1e-4))[:, None, None]
    n_s, n_t = n_s[:, None], n_t[:, None]
    xy = (pose[..., :2].float() - n_s[:, :, None]) * scale[..., None] + n_t[:, :, None]
    corners = box.float().view(*box.shape[:-1], 2, 2)
    corners = (corners - n_s[:, :, None]) * scale[..., None] + n_t[:, :, None]
    return torch.cat([xy, pose[..., 2:].float()], dim=-1), corners.flatten(-2)


def shift_faup(
    values: torch.Tensor, source_mean: torch.Tensor, target_mean: torch.Tensor
) -> torch.Tensor:
    """[B, T, F] FAUP of the driving sequence with its mean moved onto the target's."""
    return values - source_mean[:, None] + target_mean[:, None]


class PersonStats(nn.Module):
    """The target person's statistics, averaged over every frame the model trained on:
    shoulder width, neck position and FAUP mean (buffers: saved with the weights). Before
    any training frame (`count` 0) a normalisation leaves the driving sequence as it is."""

    count: torch.Tensor
    width: torch.Tensor
    centre: torch.Tensor
    faup_mean: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))
        self.register_buffer("width", torch.zeros((), dtype=torch.float64))
        self.register_buffer("centre", torch.zeros(2, dtype=torch.float64))
        self.register_buffer("faup_mean", torch.zeros(NUM_FAUP, dtype=torch.float64))

    @torch.no_grad()
    def update(self, pose: torch.Tensor, faup_values: torch.Tensor) -> None:
        """Add frames: pose [N, 33, 3], FAUP [N, F] (running means, exact)."""
        n = float(pose.shape[0])
        total = self.count + n
        for buffer, batch in (
            (self.width, shoulder_width(pose).double().mean()),
            (self.centre, neck(pose).double().mean(dim=0)),
            (self.faup_mean, faup_values.double().mean(dim=0)),
        ):
            buffer.add_((batch - buffer) * (n / total))
        self.count.fill_(total)

    def target(
        self, source: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The target (width [B], neck [B, 2]); the source's own before any training."""
        if float(self.count) == 0:
            return source
        width, centre = source
        return (
            self.width.to(width).expand_as(width),
            self.centre.to(centre).expand_as(centre),
        )

    def faup_target(self, source_mean: torch.Tensor) -> torch.Tensor:
        if float(self.count) == 0:
            return source_mean
        return self.faup_mean.to(source_mean).expand_as(source_mean)
