"""F_P, the head-pose network of the 3-D head geometry learning (Head3D Sec. 3.1, 4.2).

"We adopt a similar architecture to HopeNet [33] for the pose network F_P ... The original
HopeNet only predicts the yaw, pitch, and roll of the head (i.e. R). To enable estimation of
the 3D head translation t, we modified the final layer", initialised from HopeNet's weights.
So: Hopenet's layout (natanielruiz/deep-head-pose@code/hopenet.py: torchvision ResNet-50
trunk `conv1` ... `layer4`, heads `fc_yaw`, `fc_pitch`, `fc_roll` of 66 three-degree bins
from -99 degrees, the angle being the softmax expectation) with one more linear head,
`fc_translation` (3 values, tanh-scaled to the camera's `max_translation`; our form). The
trunk's width and depth are configurable (`PoseNetConfig`; the tiny configs shrink it); at
Hopenet's size (64, [3, 4, 6, 3]) `pose_init: hopenet` copies the registry's Hopenet weights
(`talkingub.zoo.osfv.hopenet`, the file OSFV/PTUS use) into every layer but the translation
head. R from the angles: OSFV's convention (`talkingub.zoo.osfv.head_pose.rotation_matrix`).
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.resnet import Bottleneck

from talkingub.zoo.head3d.camera import Pose
from talkingub.zoo.head3d.config import CameraConfig, PoseNetConfig
from talkingub.zoo.osfv.head_pose import bins_to_degrees, rotation_matrix
from talkingub.zoo.osfv.hopenet import IMAGENET_MEAN, IMAGENET_STD


class PoseNet(nn.Module):
    """Head image [B, 3, S, S] in [0, 1] -> head pose {R, t}."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, config: PoseNetConfig, camera: CameraConfig) -> None:
        super().__init__()
        width = config.base_width
        self.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.inplanes = width
        self.layer1 = self._layer(width, config.layers[0], 1)
        self.layer2 = self._layer(width * 2, config.layers[1], 2)
        self.layer3 = self._layer(width * 4, config.layers[2], 2)
        self.layer4 = self._layer(width * 8, config.layers[3], 2)
        features = width * 8 * Bottleneck.expansion
        self.fc_yaw = nn.Linear(features, config.num_bins)
        self.fc_pitch = nn.Linear(features, config.num_bins)
        self.fc_roll = nn.Linear(features, config.num_bins)
        self.fc_translation = nn.Linear(features, 3)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.max_translation = camera.max_translation

    def _layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        out = planes * Bottleneck.expansion
        downsample = None
        if stride != 1 or self.inplanes != out:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out)
            )
        layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = out
        layers += [Bottleneck(out, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, image: torch.Tensor) -> Pose:
        x = (image - self.mean.to(image.dtype)) / self.std.to(image.dtype)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        feat = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        angles = [bins_to_degrees(head(feat).float()) for head in (self.fc_yaw, self.fc_pitch)]
        roll = bins_to_degrees(self.fc_roll(feat).float())
        scale = feat.new_tensor(self.max_translation, dtype=torch.float32)
        translation = torch.tanh(self.fc_translation(feat).float()) * scale
        return Pose(rotation_matrix(angles[0], angles[1], roll), translation)

    def load_hopenet(self) -> None:
        """Hopenet's weights (weights registry `hopenet`) into every layer they fit: all but
        `fc_translation` (Hopenet's unused `fc_finetune` is left out)."""
        from talkingub.zoo.osfv.hopenet import load_hopenet

        state = {k: v for k, v in load_hopenet().state_dict().items() if "fc_finetune" not in k}
        missing, unexpected = self.load_state_dict(state, strict=False)
        if unexpected or any(not k.startswith("fc_translation") for k in missing):
            raise RuntimeError(f"Hopenet weights do not fit F_P: {missing}, {unexpected}")
