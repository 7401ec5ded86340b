"""Typed configuration of OSFV (face-vid2vid). Values and their sources live in configs/*.yaml.

Defaults equal the `paper` variant. Sources: Wang, Mallya & Liu, "One-Shot Free-View Neural
Talking-Head Synthesis for Video Conferencing", CVPR 2021 (the architecture and the loss
terms), and the public reimplementation
zhanglonghao1992/One-Shot_Free-View_Neural_Talking_Head_Synthesis@config/vox-256.yaml (sizes,
loss weights, optimiser), which the PTUS paper's OSFV numbers are reproduced with.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from talkingub.models.optim import OptimConfig

PerceptualMode = Literal["pretrained", "random", "off"]


@dataclasses.dataclass(frozen=True)
class AppearanceConfig:
    expansion: int = 64  # channels of the first 7x7 conv
    max_features: int = 512  # = feature_channels * feature_depth before the reshape
    num_down_blocks: int = 2
    num_resblocks: int = 6  # 3-D residual blocks after the reshape


@dataclasses.dataclass(frozen=True)
class KeypointConfig:
    expansion: int = 32
    max_features: int = 1024
    num_blocks: int = 5
    reshape_channels: int = 16384  # 2-D channels reshaped into reshape_channels/depth x depth
    reshape_depth: int = 16
    scale_factor: float = 0.25  # the detector sees the image down-sampled by this factor
    temperature: float = 0.1  # softmax temperature of the 3-D heatmaps


@dataclasses.dataclass(frozen=True)
class HeadPoseConfig:
    expansion: int = 64  # stem width; stages are 4x, 8x, 16x, 32x this
    stage_blocks: tuple[int, ...] = (3, 4, 6, 3)  # bottlenecks per stage (ResNet-50 layout)
    num_bins: int = 66  # 3-degree bins over [-99, 99) for yaw, pitch and roll


@dataclasses.dataclass(frozen=True)
class MotionConfig:
    expansion: int = 32
    max_features: int = 1024
    num_blocks: int = 5
    compress: int = 4  # 1x1x1 compression of the appearance volume before warping
    kp_variance: float = 0.01  # Gaussian heatmap variance in normalised coordinates
    mask_kernel: int = 7  # 3-D kernel of the motion-mask head


@dataclasses.dataclass(frozen=True)
class DiscriminatorConfig:
    scales: tuple[float, ...] = (1.0,)
    expansion: int = 32
    max_features: int = 512
    num_blocks: int = 4
    spectral_norm: bool = True


@dataclasses.dataclass(frozen=True)
class LossConfig:
    perceptual: tuple[float, ...] = (10.0, 10.0, 10.0, 10.0, 10.0)
    perceptual_scales: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125)
    reconstruction: float = 0.0  # pixel L1; OSFV itself trains without one
    generator_gan: float = 1.0
    discriminator_gan: float = 1.0
    feature_matching: tuple[float, ...] = (10.0, 10.0, 10.0, 10.0)
    equivariance: float = 10.0
    keypoint_prior: float = 10.0
    keypoint_distance: float = 0.1  # D_t
    keypoint_depth: float = 0.33  # Z_t
    head_pose: float = 20.0
    deformation_prior: float = 5.0
    gan_mode: Literal["hinge", "ls"] = "hinge"


@dataclasses.dataclass(frozen=True)
class EquivarianceConfig:
    sigma_affine: float = 0.05
    sigma_tps: float = 0.005
    points_tps: int = 5


def paper_optim() -> OptimConfig:
    """The shared optimiser settings with the reimplementation's schedule (vox-256.yaml)."""
    return OptimConfig(epochs=300, num_repeats=75, milestones=(180,), batch_size=32)


@dataclasses.dataclass(frozen=True)
class OSFVConfig:
    image_size: int = 256
    num_kp: int = 15
    feature_channels: int = 32  # C of the 3-D appearance volume
    feature_depth: int = 16  # D of the 3-D appearance volume
    estimate_occlusion: bool = True
    perceptual: PerceptualMode = "pretrained"
    # Hopenet-supervised head-pose loss; False trains without it (recorded in the config).
    head_pose_loss: bool = True
    appearance: AppearanceConfig = dataclasses.field(default_factory=AppearanceConfig)
    keypoints: KeypointConfig = dataclasses.field(default_factory=KeypointConfig)
    head_pose: HeadPoseConfig = dataclasses.field(default_factory=HeadPoseConfig)
    motion: MotionConfig = dataclasses.field(default_factory=MotionConfig)
    discriminator: DiscriminatorConfig = dataclasses.field(default_factory=DiscriminatorConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    equivariance: EquivarianceConfig = dataclasses.field(default_factory=EquivarianceConfig)
    optim: OptimConfig = dataclasses.field(default_factory=paper_optim)

    def __post_init__(self) -> None:
        app = self.appearance
        if app.max_features != self.feature_channels * self.feature_depth:
            raise ValueError("appearance.max_features must equal feature_channels * feature_depth")
        if self.keypoints.reshape_channels % self.keypoints.reshape_depth:
            raise ValueError("keypoints.reshape_channels must be divisible by reshape_depth")
        if self.image_size % 2**app.num_down_blocks:
            raise ValueError("image_size must be divisible by 2**appearance.num_down_blocks")
