"""Linear Motion Decomposition: a learned dictionary of motion directions, orthonormalised by QR.

Facts (LIA paper, "Linear Motion Decomposition"; wyhsirius/LIA@networks/styledecoder.py,
class Direction): a free matrix W of shape [latent_dim, motion_dim] (512 x 20, N(0, 1) init)
is orthonormalised by a QR decomposition (Gram-Schmidt) at every forward pass; its Q columns
d_1..d_M are the motion directions, and a motion code is the linear combination
w = sum_i a_i d_i = A Q^T.
"""

from __future__ import annotations

import torch
from torch import nn


class MotionDictionary(nn.Module):
    def __init__(self, latent_dim: int, motion_dim: int) -> None:
        super().__init__()
        if motion_dim > latent_dim:
            raise ValueError(f"motion_dim {motion_dim} exceeds latent_dim {latent_dim}")
        self.weight = nn.Parameter(torch.randn(latent_dim, motion_dim))

    def directions(self) -> torch.Tensor:
        """Orthonormal directions Q [latent_dim, motion_dim] (reduced QR of the weight)."""
        q, _ = torch.linalg.qr(self.weight, mode="reduced")
        return q

    def forward(self, magnitudes: torch.Tensor) -> torch.Tensor:
        """Magnitudes A [B, M] -> motion code w_{r->d} = sum_i A_i d_i, shape [B, latent_dim]."""
        return magnitudes @ self.directions().t()
