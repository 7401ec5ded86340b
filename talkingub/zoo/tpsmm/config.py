"""TPSMM configuration. Defaults are the ted-384 values of
yoyo-nb/Thin-Plate-Spline-Motion-Model@config/ted-384.yaml (the YAMLs cite each key).

`align_corners` (default True) is the sampling convention of the official code, which passes
align_corners=True to every grid_sample and bilinear interpolate (see
`talkingub.zoo.keypoint_common.geometry`); `pyramid_downsample` (default "gaussian") the
official perceptual pyramid's kernel (see `talkingub.zoo.common.perceptual`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from talkingub.models.optim import OptimConfig
from talkingub.zoo.common.perceptual import PerceptualMode, PyramidDownsample
from talkingub.zoo.keypoint_common.config import AVDConfig
from talkingub.zoo.keypoint_common.equivariance import TransformConfig


@dataclass(frozen=True)
class EncoderConfig:
    """ResNet-18 layout of the keypoint detector and the background predictor; width 64 is
    torchvision's resnet18 (the reference uses it, untrained)."""

    width: int = 64


@dataclass(frozen=True)
class DenseMotionConfig:
    block_expansion: int = 64
    max_features: int = 1024
    num_blocks: int = 5
    scale_factor: float = 0.25
    kp_variance: float = 0.01


@dataclass(frozen=True)
class InpaintingConfig:
    block_expansion: int = 64
    max_features: int = 512
    num_down_blocks: int = 3


@dataclass(frozen=True)
class DropoutSchedule:
    """TPS dropout (paper eq. 7-8) for the first `epoch` epochs, p ramping from `start_p`."""

    epoch: int = 35
    max_p: float = 0.5
    start_p: float = 0.0
    inc_epoch: int = 10

    def probability(self, epoch: int) -> float | None:
        """Dropout probability at `epoch`, or None once dropout is over."""
        if epoch >= self.epoch:
            return None
        return min(epoch / self.inc_epoch * self.max_p + self.start_p, self.max_p)


@dataclass(frozen=True)
class LossWeights:
    perceptual: tuple[float, ...] = (10.0, 10.0, 10.0, 10.0, 10.0)
    equivariance_value: float = 10.0
    warp_loss: float = 10.0
    bg: float = 10.0


@dataclass(frozen=True)
class TPSMMConfig:
    image_size: int = 256
    num_channels: int = 3
    num_tps: int = 10
    points_per_tps: int = 5
    bg: bool = True
    bg_start: int = 0
    multi_mask: bool = True
    perceptual: PerceptualMode = "pretrained"
    perceptual_scales: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125)
    pyramid_downsample: PyramidDownsample = "gaussian"
    align_corners: bool = True
    tps_regularisation: float = 0.01
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    dense_motion: DenseMotionConfig = field(default_factory=DenseMotionConfig)
    inpainting: InpaintingConfig = field(default_factory=InpaintingConfig)
    dropout: DropoutSchedule = field(default_factory=DropoutSchedule)
    loss_weights: LossWeights = field(default_factory=LossWeights)
    transform: TransformConfig = field(default_factory=TransformConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    avd: AVDConfig = field(default_factory=AVDConfig)
