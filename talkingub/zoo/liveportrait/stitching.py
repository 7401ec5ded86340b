"""Stitching module S and the eyes / lip retargeting modules R_eyes, R_lip ([P] Sec. 3.3).

Each is an MLP (Linear + ReLU, a plain Linear last). Sizes ([P] Sec. 4, [R] models.yaml):
S [2*3K -> 128 -> 128 -> 64 -> 3K + 2] takes (x_s, x_d) and returns a keypoint offset plus a
shared (dx, dy) shift ([R] live_portrait_wrapper.py `stitching`); R_eyes [3K + 3 -> 256 -> 256
-> 128 -> 128 -> 64 -> 3K] takes x_s with (c_s,eyes left, right, c_d,eyes); R_lip [3K + 2 ->
128 -> 128 -> 64 -> 3K] takes x_s with (c_s,lip, c_d,lip). K = 21 gives [126, ..., 65],
[66, ..., 63] and [65, ..., 63], the paper's sizes.

Initialisation (neither [P] nor [R] training code says): default Linear init, last layer zero,
so that every module starts as the identity (offset 0) while all layers receive gradients.
"""

from __future__ import annotations

from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.zoo.liveportrait.config import StitchingConfig


class MLP(nn.Module):
    def __init__(self, cin: int, hidden: tuple[int, ...], cout: int) -> None:
        super().__init__()
        sizes = [cin, *hidden, cout]
        linears = [nn.Linear(a, b) for a, b in pairwise(sizes)]
        nn.init.zeros_(linears[-1].weight)
        nn.init.zeros_(linears[-1].bias)
        self.layers = nn.ModuleList(linears)

    @property
    def dtype(self) -> torch.dtype:
        """The weights' dtype (inputs are cast to it)."""
        first = self.layers[0]
        assert isinstance(first, nn.Linear)
        return first.weight.dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return self.layers[-1](x)


class StitchingRetargeting(nn.Module):
    def __init__(self, config: StitchingConfig, num_kp: int) -> None:
        super().__init__()
        n = 3 * num_kp
        self.stitch = MLP(2 * n, config.stitching_hidden, n + 2)
        self.eyes = MLP(n + 3, config.eyes_hidden, n)
        self.lip = MLP(n + 2, config.lip_hidden, n)

    def stitching(self, kp_source: torch.Tensor, kp_driving: torch.Tensor) -> torch.Tensor:
        """Algorithm 1 line 5-6: x_d + S(x_s, x_d); the last two outputs shift x and y."""
        b, k, _ = kp_driving.shape
        feat = torch.cat([kp_source.reshape(b, -1), kp_driving.reshape(b, -1)], dim=1)
        delta = self.stitch(feat.to(self.stitch.dtype)).float()
        offset = delta[:, : 3 * k].view(b, k, 3)
        shift = F.pad(delta[:, 3 * k :], (0, 1))[:, None, :]
        return kp_driving + offset + shift

    def stitch_offset(self, kp_source: torch.Tensor, kp_driving: torch.Tensor) -> torch.Tensor:
        """The full offset Delta_st (keypoints and shift) S adds, for its L1 regulariser."""
        return self.stitching(kp_source, kp_driving) - kp_driving

    def retarget_eyes(self, kp_source: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """Delta_eyes [B, K, 3] from x_s and (c_s,eyes left, right, c_d,eyes) [B, 3]."""
        return self._retarget(self.eyes, kp_source, condition)

    def retarget_lip(self, kp_source: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """Delta_lip [B, K, 3] from x_s and (c_s,lip, c_d,lip) [B, 2]."""
        return self._retarget(self.lip, kp_source, condition)

    @staticmethod
    def _retarget(mlp: MLP, kp_source: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        b, k, _ = kp_source.shape
        feat = torch.cat([kp_source.reshape(b, -1), condition.to(kp_source.dtype)], dim=1)
        return mlp(feat.to(mlp.dtype)).float().view(b, k, 3)
