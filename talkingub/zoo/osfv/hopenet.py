"""Hopenet head-pose teacher for OSFV's head-pose loss L_H (OSFV Sec. 3.3).

Hopenet (Ruiz et al., CVPR-W 2018) is a ResNet-50 with three 66-bin heads (yaw, pitch, roll)
and a vestigial `fc_finetune` layer kept so the published state dict loads strictly
(natanielruiz/deep-head-pose@code/hopenet.py). OSFV trains with the
`hopenet_robust_alpha1.pkl` snapshot (300W-LP, alpha 1, robust to image quality)
(zhanglonghao1992/One-Shot_Free-View_Neural_Talking_Head_Synthesis@config/vox-256.yaml,
`hopenet_snapshot`). Weights come only from the weights registry.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.errors import WeightsMissingError
from talkingub.weights import WeightsSpec, register_weights, resolve

HOPENET = register_weights(
    WeightsSpec(
        name="hopenet",
        filename="hopenet_robust_alpha1.pkl",
        # The link published in natanielruiz/deep-head-pose@README.md (Google Drive file id).
        url="https://drive.google.com/uc?export=download&id=1m25PrSE7g9D2q2XJVMR6IA7RaCvWSzCR",
        # The publisher states no checksum; pin the sha256 after the first verified download.
        sha256="",
        description="Hopenet ResNet-50 head-pose network, 66 bins (OSFV/PTUS pose losses)",
        used_by=("osfv", "ptus", "ptus-no-fbmd", "ptus-no-fbmd-lgmd", "ptus-no-lgmd", "head3d"),
        license="Apache-2.0 (natanielruiz/deep-head-pose)",
    )
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HOPENET_SIZE = 224  # Hopenet's training crop size


class Hopenet(nn.Module):
    """torchvision ResNet-50 trunk (same parameter names as Hopenet) + yaw/pitch/roll bins."""

    conv1: nn.Module
    bn1: nn.Module
    relu: nn.Module
    maxpool: nn.Module
    layer1: nn.Module
    layer2: nn.Module
    layer3: nn.Module
    layer4: nn.Module
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, num_bins: int = 66) -> None:
        super().__init__()
        from torchvision.models import resnet50

        trunk = resnet50(weights=None)
        for name in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"):
            self.add_module(name, getattr(trunk, name))
        self.fc_yaw = nn.Linear(2048, num_bins)
        self.fc_pitch = nn.Linear(2048, num_bins)
        self.fc_roll = nn.Linear(2048, num_bins)
        self.fc_finetune = nn.Linear(2048 + 3, 3)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """image [B, 3, H, W] in [0, 1] -> (yaw, pitch, roll) bin logits."""
        x = F.interpolate(
            image, size=(HOPENET_SIZE, HOPENET_SIZE), mode="bilinear", align_corners=False
        )
        x = self.maxpool(self.relu(self.bn1(self.conv1((x - self.mean) / self.std))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        feat = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc_yaw(feat), self.fc_pitch(feat), self.fc_roll(feat)


def load_hopenet() -> Hopenet:
    """The frozen teacher, or WeightsMissingError naming the fetch command and the opt-out."""
    try:
        path = resolve(HOPENET.name, check_hash=bool(HOPENET.sha256))
    except WeightsMissingError as exc:
        raise WeightsMissingError(
            f"{exc}. The head-pose loss needs it; to train without that loss set "
            "`head_pose_loss: false` in the model config (recorded in the run config)."
        ) from None
    net = Hopenet()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return net.requires_grad_(False).eval()
