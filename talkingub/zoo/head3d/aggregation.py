"""Recurrent canonical head generation (Head3D Sec. 3.2): the N reference heads, each encoded
by E_H and warped into the canonical frame by its flow f_{R_i<-C} (eq. 5), aggregated by a
one-layer ConvLSTM Lambda (Shi et al., NeurIPS 2015) into h^c, decoded by Omega_H into the
canonical head x^c.

The ConvLSTM's kernel (3x3) and its hidden width (= E_H's feature width) are ours; the paper
says "one-layer". The warped features are multiplied by the flow's validity mask (canonical
pixels that land outside a reference crop carry nothing from it); the hidden state starts at
zero and h^c is the hidden state after the last reference frame.
"""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.head3d.camera import sample_grid
from talkingub.zoo.head3d.codec import ImageDecoder, ImageEncoder
from talkingub.zoo.head3d.config import CodecConfig


class ConvLSTMCell(nn.Module):
    """i, f, o, g = conv([x, h]); c' = f c + i g; h' = o tanh(c')."""

    def __init__(self, channels: int, hidden: int, kernel: int = 3) -> None:
        super().__init__()
        self.hidden = hidden
        self.gates = nn.Conv2d(channels + hidden, 4 * hidden, kernel, padding=kernel // 2)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden, *x.shape[2:])
            state = (zeros, zeros)
        h, c = state
        i, f, o, g = self.gates(torch.cat([x, h.to(x.dtype)], dim=1)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c


class CanonicalHeadGenerator(nn.Module):
    """E_H, Lambda, Omega_H: reference heads [B, N, 3, S, S] and their canonical grids
    [B, N, S, S, 2] (+ masks [B, N, 1, S, S]) -> canonical head [B, 3, S, S]."""

    def __init__(self, config: CodecConfig) -> None:
        super().__init__()
        self.encoder = ImageEncoder(config)  # E_H
        width = self.encoder.out_channels
        self.lstm = ConvLSTMCell(width, width)  # Lambda
        self.decoder = ImageDecoder(config)  # Omega_H

    def forward(
        self, heads: torch.Tensor, grids: torch.Tensor, masks: torch.Tensor
    ) -> torch.Tensor:
        b, n = heads.shape[:2]
        features = self.encoder(heads.flatten(0, 1))  # h_i
        size = features.shape[-2:]
        warped = sample_grid(features, grids.flatten(0, 1))  # h_i^c
        valid = nn.functional.interpolate(masks.flatten(0, 1), size=size, mode="nearest")
        warped = (warped * valid.to(warped.dtype)).unflatten(0, (b, n))
        state: tuple[torch.Tensor, torch.Tensor] | None = None
        for i in range(n):
            state = self.lstm(warped[:, i], state)
        assert state is not None
        return self.decoder(state[0])  # h^c -> x^c
