"""MRAA background motion predictor: hourglass encoder on (source, driving), global average
pooling, a linear head initialised at the identity; returns a 3x3 matrix
(articulated-animation@modules/bg_motion_predictor.py)."""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.keypoint_common.hourglass import HourglassEncoder
from talkingub.zoo.mraa.config import BGPredictorConfig

OUTPUTS = {"shift": 2, "affine": 6, "perspective": 8}
IDENTITY = {
    "shift": [0.0, 0.0],
    "affine": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
    "perspective": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
}


class BGMotionPredictor(nn.Module):
    def __init__(self, num_channels: int, cfg: BGPredictorConfig) -> None:
        super().__init__()
        self.bg_type = cfg.bg_type
        self.encoder: HourglassEncoder | None = None
        self.fc: nn.Linear | None = None
        if cfg.bg_type != "zero":
            self.encoder = HourglassEncoder(
                cfg.block_expansion, 2 * num_channels, cfg.num_blocks, cfg.max_features
            )
            self.fc = nn.Linear(self.encoder.out_channels, OUTPUTS[cfg.bg_type])
            with torch.no_grad():
                self.fc.weight.zero_()
                self.fc.bias.copy_(torch.tensor(IDENTITY[cfg.bg_type]))

    def forward(self, source: torch.Tensor, driving: torch.Tensor) -> torch.Tensor:
        eye = torch.eye(3, dtype=source.dtype, device=source.device).repeat(len(source), 1, 1)
        if self.encoder is None or self.fc is None:
            return eye
        pred = self.fc(self.encoder(torch.cat([source, driving], dim=1))[-1].mean(dim=(2, 3)))
        return self._matrix(pred, eye)

    def _matrix(self, pred: torch.Tensor, eye: torch.Tensor) -> torch.Tensor:
        b = len(pred)
        bottom = eye[:, 2:]
        if self.bg_type == "shift":
            top = torch.cat([eye[:, :2, :2], pred.view(b, 2, 1)], dim=2)
        else:
            top = pred[:, :6].view(b, 2, 3)
        if self.bg_type == "perspective":
            bottom = torch.cat([pred[:, 6:].view(b, 1, 2), eye[:, 2:, 2:]], dim=2)
        return torch.cat([top, bottom], dim=1)
