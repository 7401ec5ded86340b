"""Typed configuration of LivePortrait (both training stages). Values and sources: configs/*.yaml.

Defaults equal the `paper` variant. Sources: Guo et al., "LivePortrait: Efficient Portrait
Animation with Stitching and Retargeting Control", 2024 ([P], ../shared/papers/), and the
released inference code KwaiVGI/LivePortrait@1986663be3b6902605d32200c01f4bfd36cda83d ([R]):
src/config/models.yaml (module sizes), src/modules/*.py (layers), src/config/crop_config.py and
src/utils/resources/mask_template.png (crop and paste-back). Training values neither gives
follow face-vid2vid, which [P] Sec. 3.2 builds on (the OSFV reimplementation's vox-256.yaml),
or are ours; each is marked where it is set in configs/paper.yaml.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from talkingub.models.optim import OptimConfig
from talkingub.zoo.osfv.config import DiscriminatorConfig, EquivarianceConfig

TeacherMode = Literal["pretrained", "random", "off"]


@dataclasses.dataclass(frozen=True)
class AppearanceConfig:
    """F: 2-D encoder reshaped into a 3-D feature volume ([R] appearance_feature_extractor)."""

    block_expansion: int = 64
    num_down_blocks: int = 2
    max_features: int = 512  # = reshape_channel * reshape_depth
    reshape_channel: int = 32
    reshape_depth: int = 16
    num_resblocks: int = 6


@dataclasses.dataclass(frozen=True)
class MotionExtractorConfig:
    """M: ConvNeXt-V2 backbone with keypoint / pose / expression / scale / translation heads."""

    depths: tuple[int, ...] = (3, 3, 9, 3)  # ConvNeXt-V2-Tiny
    dims: tuple[int, ...] = (96, 192, 384, 768)
    drop_path: float = 0.0
    num_bins: int = 66  # pose bins per angle, 3 degrees each
    bin_offset: float = 97.5  # degrees = 3 * E[bin] - bin_offset ([R] utils/camera.py)


@dataclasses.dataclass(frozen=True)
class DenseMotionConfig:
    block_expansion: int = 32
    max_features: int = 1024
    num_blocks: int = 5
    compress: int = 4
    kp_variance: float = 0.01
    mask_kernel: int = 7
    occlusion_kernel: int = 7


@dataclasses.dataclass(frozen=True)
class WarpingConfig:
    """W: dense motion + occlusion from (x_s, x_d), warp f_s, 2-D projection."""

    block_expansion: int = 64  # output channels = block_expansion * 2**num_down_blocks
    num_down_blocks: int = 2
    estimate_occlusion: bool = True
    dense: DenseMotionConfig = dataclasses.field(default_factory=DenseMotionConfig)


@dataclasses.dataclass(frozen=True)
class DecoderConfig:
    """G: SPADE decoder, PixelShuffle as the last layer."""

    block_expansion: int = 64
    max_features: int = 512
    num_down_blocks: int = 2  # input channels = min(max_features, expansion * 2**num_down)
    out_channels: int = 64
    spade_hidden: int = 128
    upscale: int = 2  # PixelShuffle factor: 256 -> 512


@dataclasses.dataclass(frozen=True)
class StitchingConfig:
    """S, R_eyes, R_lip: MLP hidden sizes (input and output sizes follow from num_kp)."""

    stitching_hidden: tuple[int, ...] = (128, 128, 64)
    lip_hidden: tuple[int, ...] = (128, 128, 64)
    eyes_hidden: tuple[int, ...] = (256, 256, 128, 128, 64)


@dataclasses.dataclass(frozen=True)
class CropConfig:
    """Face crop from the upper-body frame and paste-back (what [R]'s pipeline does)."""

    scale: float = 2.3  # crop side = scale * face box side
    shift_y: float = -0.125  # centre moved by shift_y * crop side (negative: up)
    feather: float = 0.03125  # paste mask ramps 0 -> 1 over this fraction of the side
    stitching: bool = True  # apply S before pasting back (Algorithm 1, alpha_st = 1)


@dataclasses.dataclass(frozen=True)
class LossConfig:
    # Cascaded perceptual loss: VGG-19 layer weights and pyramid scales, per region.
    perceptual: tuple[float, ...] = (10.0, 10.0, 10.0, 10.0, 10.0)
    perceptual_scales: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125)
    region_weights: tuple[float, float, float] = (1.0, 1.0, 1.0)  # global, face, lip
    reconstruction: float = 0.0  # pixel L1 (not in [P]; tiny only)
    generator_gan: float = 1.0
    discriminator_gan: float = 1.0
    equivariance: float = 10.0
    keypoint_prior: float = 10.0
    keypoint_distance: float = 0.1
    keypoint_depth: float = 0.33
    head_pose: float = 20.0
    deformation_prior: float = 5.0
    face_id: float = 1.0
    guide: float = 1.0
    wing_width: float = 10.0
    wing_curvature: float = 2.0
    # Keypoints 11-20 carry the eye/lip landmarks (see guide_landmarks below).
    guide_keypoints: tuple[int, ...] = (11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
    # iBUG-68 indices of the 10 landmarks, in the order of guide_keypoints.
    guide_landmarks: tuple[int, ...] = (37, 41, 44, 46, 48, 54, 51, 57, 62, 66)


@dataclasses.dataclass(frozen=True)
class StitchLossConfig:
    """Stage II weights (eq. 5-6) and the random driving conditions."""

    stitching_reg: float = 0.1
    eyes_cond: float = 1.0
    eyes_reg: float = 0.1
    lip_cond: float = 1.0
    lip_reg: float = 0.1
    eyes_range: tuple[float, float] = (0.0, 0.8)
    lip_range: tuple[float, float] = (0.0, 0.8)


@dataclasses.dataclass(frozen=True)
class StitchStageConfig:
    """What `liveportrait-stitch` adds: the frozen stage-I weights and the stage-II loss."""

    stage1_checkpoint: str = ""  # "": random frozen stage-I networks (smoke tests only)
    retargeting: bool = True  # train R_eyes and R_lip (needs the landmark teacher)
    loss: StitchLossConfig = dataclasses.field(default_factory=StitchLossConfig)


def paper_optim() -> OptimConfig:
    """Adam 2e-4, betas (0.5, 0.999), batch 104 ([P] Sec. 4); no schedule is published."""
    return OptimConfig(epochs=0, milestones=(), batch_size=104)


@dataclasses.dataclass(frozen=True)
class LivePortraitConfig:
    image_size: int = 256  # the upper-body frame the bench gives
    face_size: int = 256  # side of the face crop F and M see ([P] Sec. 4: 256 x 256)
    num_kp: int = 21
    perceptual: TeacherMode = "pretrained"
    head_pose_loss: bool = True  # Hopenet teacher for L_H
    face_id: TeacherMode = "pretrained"  # ArcFace teacher for L_faceid
    landmark_guide: bool = True  # FAN-68 teacher for L_guide (and stage-II conditions)
    appearance: AppearanceConfig = dataclasses.field(default_factory=AppearanceConfig)
    motion: MotionExtractorConfig = dataclasses.field(default_factory=MotionExtractorConfig)
    warping: WarpingConfig = dataclasses.field(default_factory=WarpingConfig)
    decoder: DecoderConfig = dataclasses.field(default_factory=DecoderConfig)
    stitching: StitchingConfig = dataclasses.field(default_factory=StitchingConfig)
    crop: CropConfig = dataclasses.field(default_factory=CropConfig)
    discriminator: DiscriminatorConfig = dataclasses.field(default_factory=DiscriminatorConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    equivariance: EquivarianceConfig = dataclasses.field(default_factory=EquivarianceConfig)
    stage2: StitchStageConfig = dataclasses.field(default_factory=StitchStageConfig)
    optim: OptimConfig = dataclasses.field(default_factory=paper_optim)

    def __post_init__(self) -> None:
        app = self.appearance
        if app.max_features != app.reshape_channel * app.reshape_depth:
            raise ValueError("appearance.max_features must equal reshape_channel * reshape_depth")
        if self.face_size % 2**app.num_down_blocks:
            raise ValueError("face_size must be divisible by 2**appearance.num_down_blocks")
        if self.face_size % 32:
            raise ValueError("face_size must be divisible by 32 (the ConvNeXt strides)")
        volume = self.face_size // 2**app.num_down_blocks
        if volume % 2**self.warping.dense.num_blocks:
            raise ValueError(
                "face_size / 2**num_down_blocks must be divisible by 2**dense.num_blocks"
            )
        loss = self.loss
        if len(loss.guide_keypoints) != len(loss.guide_landmarks):
            raise ValueError("loss.guide_keypoints and loss.guide_landmarks differ in length")
        if max(loss.guide_keypoints) >= self.num_kp:
            raise ValueError("loss.guide_keypoints must be below num_kp")
        if len(self.motion.depths) != 4 or len(self.motion.dims) != 4:
            raise ValueError("motion.depths and motion.dims need 4 stages")
        dec = self.decoder
        if min(dec.max_features, dec.block_expansion * 2**dec.num_down_blocks) != (
            self.feature_channels
        ):
            raise ValueError("the decoder's input channels must equal the warping output's")

    @property
    def output_size(self) -> int:
        """Side of the animated face crop (face_size times the PixelShuffle factor)."""
        return self.face_size * self.decoder.upscale

    @property
    def feature_channels(self) -> int:
        """Channels the warping module hands the decoder."""
        warp = self.warping
        return warp.block_expansion * 2**warp.num_down_blocks
