"""Warping module W ([P] Sec. 3.1): dense 3-D motion and occlusion from the implicit keypoints
(x_s, x_d), the source volume f_s warped with it, projected to a 2-D feature map.

Facts from [R] src/modules/warping_network.py and dense_motion.py: f_s compressed by a 1x1x1
conv (32 -> 4) + BN + ReLU; K sparse motions x -> x - x_d,k + x_s,k (no Jacobians) plus the
identity; each deforms the compressed volume (grid_sample, align_corners=False); Gaussian
heatmaps (variance 0.01) of x_d minus x_s, with a zero background channel, are stacked with
the deformed volumes into a 3-D hourglass (32 -> 1024, 5 blocks); a 7x7x7 conv + softmax over
K+1 weighs the sparse motions into the dense flow; a 7x7 conv on the hourglass output reshaped
to 2-D + sigmoid gives the occlusion map. The warped volume is reshaped to [B, C*D, H, W], passed
through a 3x3 conv + BN + LeakyReLU and a 1x1 conv (512 -> 256 -> 256) and multiplied by the
occlusion map.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.zoo.liveportrait.config import LivePortraitConfig
from talkingub.zoo.liveportrait.layers import ConvBlock2d, Hourglass3d


def grid_3d(depth: int, height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """[D, H, W, 3] of (x, y, z), each linspace(-1, 1), x right, y down, z inwards."""
    axes = [torch.linspace(-1.0, 1.0, n, device=like.device) for n in (depth, height, width)]
    z, y, x = torch.meshgrid(*axes, indexing="ij")
    return torch.stack([x, y, z], dim=-1).to(like.dtype)


def gaussian_heatmaps(kp: torch.Tensor, shape: tuple[int, int, int], var: float) -> torch.Tensor:
    """kp [B, K, 3] -> exp(-|p - kp|^2 / (2 var)) over the grid, [B, K, D, H, W]."""
    grid = grid_3d(*shape, kp)
    diff = grid[None, None] - kp[:, :, None, None, None, :]
    return torch.exp(-0.5 * diff.pow(2).sum(-1) / var)


@dataclasses.dataclass
class Warped:
    features: torch.Tensor  # [B, C_out, H, W], occlusion applied
    flow: torch.Tensor  # [B, D, H, W, 3] sampling grid into f_s
    occlusion: torch.Tensor | None  # [B, 1, H, W]


class DenseMotion(nn.Module):
    def __init__(self, config: LivePortraitConfig) -> None:
        super().__init__()
        dense = config.warping.dense
        app = config.appearance
        self.num_kp = config.num_kp
        self.kp_variance = dense.kp_variance
        self.compress = nn.Conv3d(app.reshape_channel, dense.compress, 1)
        self.compress_norm = nn.BatchNorm3d(dense.compress)
        cin = (config.num_kp + 1) * (dense.compress + 1)
        self.hourglass = Hourglass3d(
            dense.block_expansion, cin, dense.num_blocks, dense.max_features
        )
        hidden = self.hourglass.out_channels
        k = dense.mask_kernel
        self.mask = nn.Conv3d(hidden, config.num_kp + 1, k, padding=k // 2)
        self.occlusion: nn.Conv2d | None = None
        if config.warping.estimate_occlusion:
            k = dense.occlusion_kernel
            self.occlusion = nn.Conv2d(hidden * app.reshape_depth, 1, k, padding=k // 2)

    def forward(
        self, volume: torch.Tensor, kp_source: torch.Tensor, kp_driving: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        feat = F.relu(self.compress_norm(self.compress(volume)))
        b, c, d, h, w = feat.shape
        k = self.num_kp
        kp_s, kp_d = kp_source.to(feat.dtype), kp_driving.to(feat.dtype)
        identity = grid_3d(d, h, w, feat)[None, None]  # [1, 1, D, H, W, 3]
        moved = identity - kp_d[:, :, None, None, None] + kp_s[:, :, None, None, None]
        sparse = torch.cat([identity.expand(b, 1, d, h, w, 3), moved], dim=1)  # [B, K+1, ...]
        repeated = feat[:, None].expand(b, k + 1, c, d, h, w).reshape(b * (k + 1), c, d, h, w)
        deformed = F.grid_sample(
            repeated, sparse.reshape(b * (k + 1), d, h, w, 3), align_corners=False
        ).reshape(b, k + 1, c, d, h, w)
        heat = gaussian_heatmaps(kp_d, (d, h, w), self.kp_variance)
        heat = heat - gaussian_heatmaps(kp_s, (d, h, w), self.kp_variance)
        heat = torch.cat([heat.new_zeros(b, 1, d, h, w), heat], dim=1)[:, :, None]
        net_in = torch.cat([heat.to(deformed.dtype), deformed], dim=2).reshape(b, -1, d, h, w)
        hidden = self.hourglass(net_in)
        weights = F.softmax(self.mask(hidden).float(), dim=1)  # [B, K+1, D, H, W]
        flow = (sparse.float() * weights[..., None]).sum(dim=1)  # [B, D, H, W, 3]
        occlusion = None
        if self.occlusion is not None:
            flat = hidden.reshape(b, -1, h, w)
            occlusion = torch.sigmoid(self.occlusion(flat))
        return flow, occlusion


class WarpingModule(nn.Module):
    def __init__(self, config: LivePortraitConfig) -> None:
        super().__init__()
        self.dense = DenseMotion(config)
        cin, cout = config.appearance.max_features, config.feature_channels
        self.post = ConvBlock2d(cin, cout, leaky=True)
        self.post_proj = nn.Conv2d(cout, cout, 1)

    def forward(
        self, volume: torch.Tensor, kp_source: torch.Tensor, kp_driving: torch.Tensor
    ) -> Warped:
        flow, occlusion = self.dense(volume, kp_source, kp_driving)
        warped = F.grid_sample(volume, flow.to(volume.dtype), align_corners=False)
        b, c, d, h, w = warped.shape
        out = self.post_proj(self.post(warped.reshape(b, c * d, h, w)))
        if occlusion is not None:
            out = out * occlusion.to(out.dtype)
        return Warped(out, flow, occlusion)
