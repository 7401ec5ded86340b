"""Multi-scale VGG-19 perceptual loss (the loss FOMM, MRAA, TPSMM, OSFV and LIA all train with).

Facts followed: VGG-19 feature maps after relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
(torchvision `features` indices 1, 6, 11, 20, 29), ImageNet normalisation, mean absolute
difference per layer, summed over an image pyramid; FOMM's vox-256.yaml uses scales
[1, 0.5, 0.25, 0.125] and layer weights [10, 10, 10, 10, 10]
(AliaksandrSiarohin/first-order-model@config/vox-256.yaml, train_params.loss_weights).

The pyramid's downsampling (`downsample`) is one of two kernels:
`gaussian`, the official FOMM / MRAA / TPSMM one (`ImagePyramide` of their modules/model.py
builds `AntiAliasInterpolation2d` of modules/util.py: Gaussian blur with sigma = (1/s - 1)/2,
2 * round(4 sigma) + 1 taps, zero padding, then every (1/s)-th pixel;
AliaksandrSiarohin/first-order-model@69c890159ca9 and @898921d03c5d,
snap-research/articulated-animation@6b2029788185,
yoyo-nb/Thin-Plate-Spline-Motion-Model@0ec14f6c06f5), reusing the keypoint detectors'
`talkingub.zoo.keypoint_common.antialias.AntiAliasDownsample`; and `antialias`, torch's
antialiased bilinear resize (the default here, what LIA, OSFV and PTUS train with).

Weights come from the weights registry (`vgg19`, torchvision's ImageNet file). Three modes:
`pretrained` (default; refuses to start without the file, naming the fetch command),
`random` (random init: only for tests and smoke runs, recorded in the run config) and
`off` (the loss term is dropped).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.weights import WeightsSpec, register_weights, resolve
from talkingub.zoo.keypoint_common.antialias import AntiAliasDownsample

VGG19 = register_weights(
    WeightsSpec(
        name="vgg19",
        filename="vgg19-dcbb9e9d.pth",
        url="https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
        sha256="dcbb9e9d",
        description="torchvision VGG-19 ImageNet classifier (perceptual losses)",
        used_by=("fomm", "mraa", "tpsmm", "lia", "osfv", "ptus"),
        license="BSD-3-Clause (torchvision)",
    )
)

LAYER_ENDS = (2, 7, 12, 21, 30)  # slice ends after relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MIN_SIDE = 16  # pyramid levels smaller than this are skipped (tiny 64 px configs)
PerceptualMode = Literal["pretrained", "random", "off"]
PyramidDownsample = Literal["gaussian", "antialias"]


class VGG19Features(nn.Module):
    """Five feature slices of VGG-19, frozen."""

    def __init__(self, mode: PerceptualMode = "pretrained") -> None:
        super().__init__()
        from torchvision.models.vgg import cfgs, make_layers

        features = make_layers(cfgs["E"], batch_norm=False)  # VGG-19's conv part only
        if mode == "pretrained":
            state = torch.load(resolve(VGG19.name), map_location="cpu", weights_only=True)
            prefix = "features."
            features.load_state_dict(
                {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            )
        layers = list(features.children())[: LAYER_ENDS[-1]]
        starts = (0, *LAYER_ENDS[:-1])
        self.slices = nn.ModuleList(nn.Sequential(*layers[a:b]) for a, b in zip(starts, LAYER_ENDS))
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = (image - self.mean) / self.std
        feats = []
        for block in self.slices:
            x = block(x)
            feats.append(x)
        return feats

    def train(self, mode: bool = True) -> VGG19Features:
        return super().train(False)  # always frozen, BatchNorm-free anyway


class PerceptualLoss(nn.Module):
    """Sum over pyramid scales and VGG layers of weight * mean |VGG(pred) - VGG(target)|."""

    def __init__(
        self,
        scales: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125),
        layer_weights: tuple[float, ...] = (10.0, 10.0, 10.0, 10.0, 10.0),
        mode: PerceptualMode = "pretrained",
        downsample: PyramidDownsample = "antialias",
    ) -> None:
        super().__init__()
        if len(layer_weights) != len(LAYER_ENDS):
            raise ValueError(f"layer_weights needs {len(LAYER_ENDS)} values")
        if downsample not in ("gaussian", "antialias"):
            raise ValueError(f"downsample must be 'gaussian' or 'antialias', not {downsample!r}")
        self.scales = scales
        self.layer_weights = layer_weights
        self.mode = mode
        self.downsample = downsample
        self.vgg = VGG19Features(mode) if mode != "off" else None
        # one fixed Gaussian per scale (non-persistent buffers: nothing in the state_dict)
        self.gaussians = nn.ModuleList(
            AntiAliasDownsample(3, s) for s in (scales if downsample == "gaussian" else ())
        )

    def pyramid(self, image: torch.Tensor) -> list[torch.Tensor]:
        """The image at every scale, in float32 (the levels the loss compares; under bfloat16
        autocast the prediction arrives in bfloat16, for which the CPU antialias kernel does
        not exist)."""
        image = image.float()
        if self.downsample == "gaussian":
            return [down(image) for down in self.gaussians]
        return [_antialias_bilinear(image, s) for s in self.scales]

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.vgg is None:
            return pred.new_zeros(())
        total = pred.new_zeros(())
        levels = zip(self.scales, self.pyramid(pred), self.pyramid(target))
        for scale, p, t in levels:
            if min(pred.shape[-2:]) * scale < MIN_SIDE:
                continue  # relu5_1 sits after four 2x poolings
            for w, fp, ft in zip(self.layer_weights, self.vgg(p), self.vgg(t.detach())):
                total = total + w * (fp - ft.detach()).abs().mean()
        return total


def _antialias_bilinear(image: torch.Tensor, scale: float) -> torch.Tensor:
    """torch's antialiased bilinear downscale (the `antialias` pyramid)."""
    if scale == 1.0:
        return image
    return F.interpolate(
        image, scale_factor=scale, mode="bilinear", align_corners=False, antialias=True
    )
