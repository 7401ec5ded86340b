"""MRAA configuration. Defaults are the ted384 values of
snap-research/articulated-animation@config/ted384.yaml (the YAMLs cite each key).

`align_corners` (default False) is the sampling convention of the official code, which calls
grid_sample / bilinear interpolate without the argument under its pinned torch==1.4.0 (see
`talkingub.zoo.keypoint_common.geometry`); `pyramid_downsample` (default "gaussian") the
official perceptual pyramid's kernel (see `talkingub.zoo.common.perceptual`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from talkingub.models.optim import OptimConfig
from talkingub.zoo.common.perceptual import PerceptualMode, PyramidDownsample
from talkingub.zoo.keypoint_common.config import AVDConfig
from talkingub.zoo.keypoint_common.equivariance import TransformConfig


@dataclass(frozen=True)
class RegionPredictorConfig:
    block_expansion: int = 32
    max_features: int = 1024
    num_blocks: int = 5
    temperature: float = 0.1
    scale_factor: float = 0.25
    pad: int = 0


@dataclass(frozen=True)
class BGPredictorConfig:
    block_expansion: int = 32
    max_features: int = 1024
    num_blocks: int = 5
    bg_type: Literal["zero", "shift", "affine", "perspective"] = "affine"


@dataclass(frozen=True)
class PixelwiseFlowConfig:
    block_expansion: int = 64
    max_features: int = 1024
    num_blocks: int = 5
    scale_factor: float = 0.25
    use_deformed_source: bool = True
    use_covar_heatmap: bool = True
    estimate_occlusion_map: bool = True
    region_var: float = 0.01


@dataclass(frozen=True)
class GeneratorConfig:
    block_expansion: int = 64
    max_features: int = 512
    num_down_blocks: int = 2
    num_bottleneck_blocks: int = 6
    skips: bool = True


@dataclass(frozen=True)
class LossWeights:
    perceptual: tuple[float, ...] = (10.0, 10.0, 10.0, 10.0, 10.0)
    equivariance_shift: float = 10.0
    equivariance_affine: float = 10.0


@dataclass(frozen=True)
class MRAAConfig:
    image_size: int = 256
    num_channels: int = 3
    num_regions: int = 10
    revert_axis_swap: bool = True
    perceptual: PerceptualMode = "pretrained"
    perceptual_scales: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125)
    pyramid_downsample: PyramidDownsample = "gaussian"
    align_corners: bool = False
    region_predictor: RegionPredictorConfig = field(default_factory=RegionPredictorConfig)
    bg_predictor: BGPredictorConfig = field(default_factory=BGPredictorConfig)
    pixelwise_flow: PixelwiseFlowConfig = field(default_factory=PixelwiseFlowConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    loss_weights: LossWeights = field(default_factory=LossWeights)
    transform: TransformConfig = field(default_factory=TransformConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    avd: AVDConfig = field(default_factory=AVDConfig)
