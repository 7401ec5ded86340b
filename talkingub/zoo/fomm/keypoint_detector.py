"""FOMM keypoint detector: hourglass -> K heatmaps (spatial softmax, temperature 0.1) whose means
are the keypoints; a second head regresses 2x2 Jacobians pooled with the same heatmaps
(first-order-model@modules/keypoint_detector.py)."""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.fomm.config import KeypointDetectorConfig
from talkingub.zoo.keypoint_common.antialias import AntiAliasDownsample
from talkingub.zoo.keypoint_common.geometry import heatmap_mean, spatial_softmax
from talkingub.zoo.keypoint_common.hourglass import Hourglass

Keypoints = dict[str, torch.Tensor]


class KeypointDetector(nn.Module):
    def __init__(self, num_kp: int, num_channels: int, cfg: KeypointDetectorConfig) -> None:
        super().__init__()
        self.num_kp = num_kp
        self.temperature = cfg.temperature
        self.down = AntiAliasDownsample(num_channels, cfg.scale_factor)
        self.predictor = Hourglass(
            cfg.block_expansion, num_channels, cfg.num_blocks, cfg.max_features
        )
        self.kp = nn.Conv2d(self.predictor.out_filters, num_kp, 7, padding=cfg.pad)
        self.jacobian: nn.Conv2d | None = None
        if cfg.estimate_jacobian:
            self.jacobian = nn.Conv2d(self.predictor.out_filters, 4 * num_kp, 7, padding=cfg.pad)
            identity = torch.tensor([1.0, 0.0, 0.0, 1.0]).repeat(num_kp)
            nn.init.zeros_(self.jacobian.weight)  # every Jacobian starts at the identity
            self.jacobian.bias = nn.Parameter(identity)

    def forward(self, image: torch.Tensor) -> Keypoints:
        features = self.predictor(self.down(image))
        heatmap = spatial_softmax(self.kp(features), self.temperature)
        out = {"value": heatmap_mean(heatmap)}
        if self.jacobian is not None:
            b, k, h, w = heatmap.shape
            maps = self.jacobian(features).view(b, k, 4, h, w)
            pooled = (maps * heatmap[:, :, None]).sum(dim=(-1, -2))
            out["jacobian"] = pooled.view(b, k, 2, 2)
        return out
