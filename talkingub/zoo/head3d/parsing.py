"""Head parsing: what stands in for the paper's face-parsing network, and the head crop's
way back into the full frame.

Head3D extracts "the facial and hair regions" of every frame with a pretrained face-parsing
network (BiSeNet, zllrunning/face-parsing.PyTorch; Sec. 3.1, 4.2) and reconstructs only them.
A Talking-UB build records no parsing, no face mesh and no person mask per frame in its
shards: each sampled frame has its face box (`face_boxes` of the shard JSON), square, 1.6 x the
detected face height and centred on the face (`talkingub.curate.crop.face_crop`), which is the
head crop the bench hands the model (`source_face`, `driving_face`, `source_frames_face`).
The head region is an ellipse inscribed in that box, a little above its centre (hair), with a
soft edge (`HeadMaskConfig`; our values): a fixed region per crop, not a per-pixel
segmentation, so hair beyond it and background inside it are kept or lost as the ellipse
says. `enabled: false` keeps the whole crop.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from talkingub.zoo.head3d.config import HeadMaskConfig


def head_mask(config: HeadMaskConfig, size: int) -> torch.Tensor:
    """[1, 1, size, size] in [0, 1]: 1 inside the head ellipse, a linear ramp of `feather`
    (box units) across its edge; all ones when the mask is disabled."""
    if not config.enabled:
        return torch.ones(1, 1, size, size)
    axis = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    (cx, cy), (rx, ry) = config.center, config.radii
    radius = torch.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2)  # 1 on the ellipse
    ramp = max(config.feather, 1e-6) / min(rx, ry)
    return ((1.0 - radius) / ramp + 0.5).clamp(0.0, 1.0)[None, None]


def paste(crop: torch.Tensor, box: torch.Tensor, size: int) -> torch.Tensor:
    """A head crop [B, C, s, s] put back into a `size` x `size` frame at its `box` ([B, 4]
    normalised x0, y0, x1, y1, the box the crop was taken from); zero outside the box."""
    axis = (torch.arange(size, dtype=torch.float32, device=crop.device) + 0.5) / size
    box = box.float()
    x0, y0, x1, y1 = (box[:, i].view(-1, 1, 1) for i in range(4))
    gx = (axis.view(1, 1, -1) - x0) / (x1 - x0).clamp_min(1e-6) * 2.0 - 1.0
    gy = (axis.view(1, -1, 1) - y0) / (y1 - y0).clamp_min(1e-6) * 2.0 - 1.0
    grid = torch.stack([gx.expand(-1, size, size), gy.expand(-1, size, size)], dim=-1)
    return F.grid_sample(crop.float(), grid, padding_mode="zeros", align_corners=False)
