"""Animation-via-disentanglement (AVD) network (MRAA Sec. 3.4; reused by TPSMM).

Two MLP encoders (identity from the source's motion parameters, pose from the driving's) and an
MLP decoder that predicts the motion parameters of the driving pose on the source's shape.
Layer widths 256-512-1024 -> bottleneck, decoder 1024-512-256, BatchNorm1d + ReLU
(snap-research/articulated-animation@modules/avd_network.py,
yoyo-nb/Thin-Plate-Spline-Motion-Model@modules/avd_network.py).
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

ENCODER_WIDTHS = (256, 512, 1024)
DECODER_WIDTHS = (1024, 512, 256)


def mlp(sizes: tuple[int, ...]) -> nn.Sequential:
    """Linear -> BN -> ReLU between consecutive sizes; plain Linear at the end."""
    layers: list[nn.Module] = []
    for i, (cin, cout) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(cin, cout))
        if i < len(sizes) - 2:
            layers += [nn.BatchNorm1d(cout), nn.ReLU()]
    return nn.Sequential(*layers)


class AVDNetwork(nn.Module):
    """Flat motion vectors [B, D] (identity, pose) -> reconstructed motion vector [B, D]."""

    def __init__(
        self, input_size: int, id_bottle_size: int = 64, pose_bottle_size: int = 64
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.id_encoder = mlp((input_size, *ENCODER_WIDTHS, id_bottle_size))
        self.pose_encoder = mlp((input_size, *ENCODER_WIDTHS, pose_bottle_size))
        self.decoder = mlp((pose_bottle_size + id_bottle_size, *DECODER_WIDTHS, input_size))

    def forward(self, identity: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        code = torch.cat([self.pose_encoder(pose), self.id_encoder(identity)], dim=1)
        return self.decoder(code)


def random_scale(tensors: list[torch.Tensor], scale: float) -> list[torch.Tensor]:
    """Scale the x and y rows of [B, K, 2] points / [B, K, 2, 2] affines by one random diag(u)
    per sample, u ~ U(1 - s, 1 + s)^2; the AVD learns to undo it (train_avd.py `random_scale`).
    """
    first = tensors[0]
    factors = torch.rand(first.shape[0], 2, dtype=first.dtype, device=first.device)
    factors = factors * (2 * scale) + (1 - scale)
    out = []
    for t in tensors:
        shape = (t.shape[0], 1, 2) + (1,) * (t.dim() - 3)
        out.append(t * factors.view(shape))
    return out
