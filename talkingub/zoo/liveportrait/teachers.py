"""Frozen pretrained networks LivePortrait's losses use: an ArcFace face-id network (L_faceid)
and FAN-68 landmarks (L_guide, the stage-II eye / lip conditions). Hopenet (L_H) is OSFV's
(talkingub.zoo.osfv.hopenet). None is part of the model's state dict; a missing weights file
stops training with the fetch command, and the bench's `--without-pretrained-losses` switches
the terms off (talkingub.bench.pretrained).

ArcFace: [P] cites ArcFace (Deng et al.) without naming a network or training set. We use the
IResNet-50 of insightface's arcface_torch (deepinsight/insightface@04a433f1,
recognition/arcface_torch/backbones/iresnet.py: 3x3 stem, IBasicBlock stages [3, 4, 14, 3],
BN -> dropout -> FC 512*7*7 -> 512 -> BatchNorm1d; 112x112 RGB in (x - 0.5) / 0.5), weights from
its MS1MV3 model zoo. The face is the face box region of the crop resized to 112 (no 5-point
alignment: the build keeps boxes, not landmarks).

FAN: the 2D-FAN-4 TorchScript the FLD metric uses (talkingub.vision.fan, `fan-2dfan4`), fed with
face-alignment's crop of the face box; points are the soft-argmax of each heatmap around its
peak, so gradients reach the image (the stage-II condition loss needs them).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.errors import WeightsMissingError
from talkingub.weights import WeightsSpec, register_weights, resolve
from talkingub.zoo.liveportrait.pasteback import crop_region

ARCFACE = register_weights(
    WeightsSpec(
        name="arcface-r50-ms1mv3",
        filename="ms1mv3_arcface_r50_fp16_backbone.pth",
        # The model zoo of deepinsight/insightface recognition/arcface_torch/README.md is a
        # OneDrive folder: take ms1mv3_arcface_r50_fp16/backbone.pth from it by hand and place
        # it at `talkingub weights path arcface-r50-ms1mv3`, or `fetch --url` a direct mirror.
        url="https://1drv.ms/u/s!AswpsDO2toNKq0lWY69vN58GR6mw?e=p9Ov5d",
        sha256="",
        description="insightface arcface_torch IResNet-50 MS1MV3 (LivePortrait face-id loss)",
        used_by=("liveportrait",),
        license="non-commercial research (insightface model zoo)",
    )
)
FAN_WEIGHTS = "fan-2dfan4"
ARCFACE_SIZE = 112
FAN_SIZE = 256


class IBasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.prelu = nn.PReLU(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=stride, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return out + (x if self.downsample is None else self.downsample(x))


class IResNet50(nn.Module):
    """ArcFace embedding network; parameter names follow arcface_torch so its file loads."""

    def __init__(self, stages: tuple[int, ...] = (3, 4, 14, 3), dim: int = 512) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.prelu = nn.PReLU(64)
        cin = 64
        for i, (blocks, cout) in enumerate(zip(stages, (64, 128, 256, 512))):
            layer = [
                IBasicBlock(cin if j == 0 else cout, cout, 2 if j == 0 else 1)
                for j in range(blocks)
            ]
            self.add_module(f"layer{i + 1}", nn.Sequential(*layer))
            cin = cout
        self.bn2 = nn.BatchNorm2d(512)
        self.fc = nn.Linear(512 * 7 * 7, dim)
        self.features = nn.BatchNorm1d(dim)

    def forward(self, face: torch.Tensor) -> torch.Tensor:
        """face [B, 3, 112, 112] in [0, 1] -> embedding [B, 512]."""
        x = self.prelu(self.bn1(self.conv1((face - 0.5) / 0.5)))
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x)
        return self.features(self.fc(torch.flatten(self.bn2(x), 1)))


def load_arcface(mode: str) -> IResNet50:
    net = IResNet50()
    if mode == "pretrained":
        try:
            path = resolve(ARCFACE.name, check_hash=False)
        except WeightsMissingError as exc:
            raise WeightsMissingError(
                f"{exc}. The face-id loss needs it; set `face_id: off` in the model config "
                "(or pass --without-pretrained-losses) to train without it."
            ) from None
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return net.requires_grad_(False).eval()


def face_id_loss(
    net: nn.Module, pred: torch.Tensor, source: torch.Tensor, face_box: torch.Tensor
) -> torch.Tensor:
    """1 - cos(ArcFace(face of pred), ArcFace(face of source)), batch mean; boxes in crop space."""
    faces = crop_region(torch.cat([pred, source]).float(), face_box.repeat(2, 1), ARCFACE_SIZE)
    emb = net(faces)
    ours, ref = emb.chunk(2)
    return (1 - F.cosine_similarity(ours, ref.detach(), dim=1)).mean()


class LandmarkTeacher:
    """FAN-68 landmarks of crops, in crop space [-1, 1], differentiable w.r.t. the image."""

    def __init__(self, net: Any) -> None:
        self.net = net

    @classmethod
    def load(cls) -> LandmarkTeacher:
        try:
            path = resolve(FAN_WEIGHTS)
        except WeightsMissingError as exc:
            raise WeightsMissingError(
                f"{exc}. The landmark-guided loss needs it; set `landmark_guide: false` in the "
                "model config (or pass --without-pretrained-losses) to train without it."
            ) from None
        net = torch.jit.load(str(path), map_location="cpu").eval()
        for p in net.parameters():
            p.requires_grad_(False)
        return cls(net)

    def to(self, device: torch.device) -> LandmarkTeacher:
        self.net = self.net.to(device)
        return self

    def __call__(self, images: torch.Tensor, face_box: torch.Tensor) -> torch.Tensor:
        """images [B, 3, S, S] crops, face boxes [B, 4] in crop space -> points [B, 68, 2]."""
        center, half = fan_window(face_box)
        box = torch.cat([center - half, center + half], dim=1)
        heat = self.net(crop_region(images.float(), box, FAN_SIZE))
        heat = heat[-1] if isinstance(heat, list | tuple) else heat
        points = soft_argmax(heat.float())  # [B, 68, 2] in the FAN crop's [-1, 1]
        return center[:, None, :] + points * half[:, None, :]


def fan_window(face_box: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """face-alignment's crop of a box: centre moved up 0.12 x height, side 200 (w + h) / 195."""
    w, h = face_box[:, 2] - face_box[:, 0], face_box[:, 3] - face_box[:, 1]
    cx = (face_box[:, 0] + face_box[:, 2]) / 2
    cy = (face_box[:, 1] + face_box[:, 3]) / 2 - 0.12 * h
    half = (200.0 / 195.0) * (w + h) / 2
    return torch.stack([cx, cy], dim=1), torch.stack([half, half], dim=1)


def soft_argmax(heat: torch.Tensor) -> torch.Tensor:
    """[B, K, h, w] heatmaps -> [B, K, 2] expected (x, y) in [-1, 1] over the cells above half
    the peak (the peak's neighbourhood; the far background does not pull the point)."""
    b, k, h, w = heat.shape
    flat = heat.reshape(b, k, -1)
    peak = flat.max(dim=-1, keepdim=True).values.detach()
    weights = F.relu(flat - 0.5 * peak) + 1e-8
    weights = weights / weights.sum(-1, keepdim=True)
    xs = (torch.arange(w, device=heat.device, dtype=heat.dtype) + 0.5) / w * 2 - 1
    ys = (torch.arange(h, device=heat.device, dtype=heat.dtype) + 0.5) / h * 2 - 1
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    px = (weights * grid_x.reshape(1, 1, -1)).sum(-1)
    py = (weights * grid_y.reshape(1, 1, -1)).sum(-1)
    return torch.stack([px, py], dim=-1)
