"""TPSMM inpainting network: encoder of the source, every level warped by the optical flow and
masked by the occlusion mask of its resolution, decoder with residual blocks that fills the
occluded parts, output blended with the warped source
(Thin-Plate-Spline-Motion-Model@modules/inpainting_network.py, paper Sec. 3.4)."""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from talkingub.zoo.keypoint_common.blocks import DownBlock2d, ResBlock2d, SameBlock2d, UpBlock2d
from talkingub.zoo.keypoint_common.geometry import resize_like, warp
from talkingub.zoo.keypoint_common.hourglass import level_channels
from talkingub.zoo.tpsmm.config import InpaintingConfig

Motion = dict[str, torch.Tensor | list[torch.Tensor]]


class InpaintingNetwork(nn.Module):
    def __init__(
        self, num_channels: int, cfg: InpaintingConfig, multi_mask: bool, align_corners: bool
    ) -> None:
        super().__init__()
        n = cfg.num_down_blocks
        self.multi_mask = multi_mask
        self.align_corners = align_corners
        ch = [level_channels(cfg.block_expansion, cfg.max_features, i) for i in range(n + 1)]
        self.first = SameBlock2d(num_channels, ch[0], 7, "instance")
        self.down_blocks = nn.ModuleList(DownBlock2d(a, b, 3, "instance") for a, b in pairwise(ch))
        cin = [ch[n]] + [2 * ch[n - i] for i in range(1, n)]
        self.up_blocks = nn.ModuleList(
            UpBlock2d(cin[i], ch[n - i - 1], 3, "instance") for i in range(n)
        )
        self.resblock = nn.ModuleList(ResBlock2d(c, 3, "instance") for c in cin for _ in range(2))
        self.final = nn.Conv2d(ch[0], num_channels, 7, padding=3)

    def occlude(
        self, features: torch.Tensor, masks: list[torch.Tensor], level: int
    ) -> torch.Tensor:
        if self.multi_mask:
            return features * masks[level]
        return features * resize_like(masks[0], features, align_corners=self.align_corners)

    def warp(self, features: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        return warp(features, flow, align_corners=self.align_corners)

    def encode(self, image: torch.Tensor) -> list[torch.Tensor]:
        maps = [self.first(image)]
        for block in self.down_blocks:
            maps.append(block(maps[-1]))
        return maps

    def forward(
        self, source: torch.Tensor, motion: Motion
    ) -> dict[str, torch.Tensor | list[torch.Tensor]]:
        flow: torch.Tensor = motion["deformation"]  # type: ignore[assignment]
        masks: list[torch.Tensor] = motion["occlusion_map"]  # type: ignore[assignment]
        enc = self.encode(source)
        n = len(self.down_blocks)
        out = self.occlude(self.warp(enc[-1], flow), masks, 0)
        warped_detached = [self.occlude(self.warp(enc[-1].detach(), flow), _detach(masks), 0)]
        for i in range(n):
            out = self.up_blocks[i](self.resblock[2 * i + 1](self.resblock[2 * i](out)))
            skip = self.occlude(self.warp(enc[-(i + 2)], flow), masks, i + 1)
            warped_detached.append(
                self.occlude(self.warp(enc[-(i + 2)].detach(), flow), _detach(masks), i + 1)
            )
            if i < n - 1:
                out = torch.cat([out, skip], dim=1)
        deformed = self.warp(source, flow)
        last = (
            masks[-1]
            if self.multi_mask
            else resize_like(masks[-1], out, align_corners=self.align_corners)
        )
        out = torch.sigmoid(self.final(out * (1 - last) + skip))
        out = out * (1 - last) + deformed * last
        return {"prediction": out, "deformed": deformed, "warped_encoder_maps": warped_detached}

    def encode_driving(
        self, driving: torch.Tensor, masks: list[torch.Tensor]
    ) -> list[torch.Tensor]:
        """Warp-loss targets: the driving's encoder maps (no gradient), masked, fine first."""
        with torch.no_grad():
            maps = self.encode(driving)
        n = len(maps) - 1
        return [self.occlude(m, _detach(masks), n - i) for i, m in enumerate(maps)]


def _detach(masks: list[torch.Tensor]) -> list[torch.Tensor]:
    return [m.detach() for m in masks]
