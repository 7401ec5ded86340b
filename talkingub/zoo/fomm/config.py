"""FOMM configuration. Defaults are the vox-256 values of
AliaksandrSiarohin/first-order-model@config/vox-256.yaml (the YAMLs cite each key).

`align_corners` (default True) is the sampling convention of the official code under its pinned
torch==1.0.0 (see `talkingub.zoo.keypoint_common.geometry`); `pyramid_downsample` (default
"gaussian") the official perceptual pyramid's kernel (see `talkingub.zoo.common.perceptual`).
The discriminator is built and trained only when `loss_weights.generator_gan` is non-zero, as
first-order-model's train.py steps it (see `talkingub.zoo.fomm.model`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from talkingub.models.optim import OptimConfig
from talkingub.zoo.common.perceptual import PerceptualMode, PyramidDownsample
from talkingub.zoo.keypoint_common.equivariance import TransformConfig


@dataclass(frozen=True)
class KeypointDetectorConfig:
    block_expansion: int = 32
    max_features: int = 1024
    num_blocks: int = 5
    temperature: float = 0.1
    scale_factor: float = 0.25
    estimate_jacobian: bool = True
    pad: int = 0


@dataclass(frozen=True)
class DenseMotionConfig:
    block_expansion: int = 64
    max_features: int = 1024
    num_blocks: int = 5
    scale_factor: float = 0.25
    kp_variance: float = 0.01


@dataclass(frozen=True)
class GeneratorConfig:
    block_expansion: int = 64
    max_features: int = 512
    num_down_blocks: int = 2
    num_bottleneck_blocks: int = 6
    estimate_occlusion_map: bool = True


@dataclass(frozen=True)
class DiscriminatorConfig:
    scales: tuple[float, ...] = (1.0,)
    block_expansion: int = 32
    max_features: int = 512
    num_blocks: int = 4
    sn: bool = True


@dataclass(frozen=True)
class LossWeights:
    generator_gan: float = 0.0
    discriminator_gan: float = 1.0
    feature_matching: tuple[float, ...] = (10.0, 10.0, 10.0, 10.0)
    perceptual: tuple[float, ...] = (10.0, 10.0, 10.0, 10.0, 10.0)
    equivariance_value: float = 10.0
    equivariance_jacobian: float = 10.0


@dataclass(frozen=True)
class AnimationConfig:
    adapt_movement_scale: bool = False
    use_relative_jacobian: bool = True


@dataclass(frozen=True)
class FOMMConfig:
    image_size: int = 256
    num_channels: int = 3
    num_kp: int = 10
    perceptual: PerceptualMode = "pretrained"
    perceptual_scales: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125)
    pyramid_downsample: PyramidDownsample = "gaussian"
    align_corners: bool = True
    keypoint_detector: KeypointDetectorConfig = field(default_factory=KeypointDetectorConfig)
    dense_motion: DenseMotionConfig = field(default_factory=DenseMotionConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    loss_weights: LossWeights = field(default_factory=LossWeights)
    transform: TransformConfig = field(default_factory=TransformConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    animation: AnimationConfig = field(default_factory=AnimationConfig)
