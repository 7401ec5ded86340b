"""Typed configuration of Head3D (Ni et al., "3D-Aware Talking-Head Video Motion Transfer",
WACV 2024). Defaults equal the `paper` variant; values and their sources: configs/*.yaml.

What the paper states (Sec. 3 and 4.2): N = 5 reference frames; the camera's field of view
about 10 degrees and the subject about 1 m away (following Unsup3d, Wu et al. CVPR 2020); the
head encoder/decoder of Johnson et al. with 2 down-sampling blocks, a one-layer ConvLSTM, the
frame encoder/decoder of the same architecture, the flow/attention predictor from MRAA's
flow predictor; Adam (0.5, 0.999), batch 5 videos; stage 1: 10 epochs, lr 2e-4 (F_D) and 2e-5
(F_P), x0.1 at epoch 5, lambda_sym = lambda_D = 0.1; stage 2: 20 epochs, lr 2e-4, x0.1 at
epoch 10; stage 3: 50 epochs, lr 2e-4 fixed; the perceptual loss of FOMM/MRAA plus FOMM's
equivariance loss. Everything else is marked in the YAMLs as Unsup3d's, MRAA's/FOMM's or ours.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from talkingub.models.optim import OptimConfig
from talkingub.zoo.common.perceptual import PerceptualMode, PyramidDownsample

STAGES = (1, 2, 3)


@dataclasses.dataclass(frozen=True)
class CameraConfig:
    """The perspective camera of Sec. 3.1 (eq. 2) and the pose parametrisation."""

    fov_deg: float = 10.0  # theta_FOV (paper, after Unsup3d)
    distance: float = 1.0  # nominal subject distance in m (paper); the rotation centre
    depth_range: float = 0.1  # depth in distance +- this (Unsup3d min_depth 0.9, max_depth 1.1)
    # |t| bounds (tanh-scaled) of the pose network's translation head, x, y, z
    max_translation: tuple[float, float, float] = (0.1, 0.1, 0.1)
    # soft z-buffer of the forward splatting (eq. 1, 3): weight exp(-sharpness * depth)
    splat_sharpness: float = 50.0
    # a splatted pixel with less than this bilinear coverage is a hole (no surface there)
    min_coverage: float = 0.05


@dataclasses.dataclass(frozen=True)
class HeadMaskConfig:
    """The stand-in for the face-parsing network: an ellipse in the build's head box (the
    square face box of the shards, 1.6 x the face height, centred on the face), in box units."""

    enabled: bool = True
    center: tuple[float, float] = (0.5, 0.45)  # x, y
    radii: tuple[float, float] = (0.38, 0.47)  # x, y
    feather: float = 0.06  # soft edge width


@dataclasses.dataclass(frozen=True)
class DepthNetConfig:
    """F_D: encoder-decoder (U-Net) with instance normalisation in the decoder."""

    block_expansion: int = 32
    max_features: int = 512
    num_blocks: int = 5


@dataclasses.dataclass(frozen=True)
class PoseNetConfig:
    """F_P: Hopenet's ResNet-50 with 66-bin yaw/pitch/roll heads and a translation head."""

    base_width: int = 64  # stem width; stages 1x, 2x, 4x, 8x this (x4 bottleneck expansion)
    layers: tuple[int, int, int, int] = (3, 4, 6, 3)
    num_bins: int = 66


@dataclasses.dataclass(frozen=True)
class CodecConfig:
    """E_H / Omega_H and E_F / Omega_F: Johnson et al.'s transformation network split after
    its two down-sampling blocks (c9s1-w, d2w, d4w | R4w x n, u2w, uw, c9s1-3)."""

    block_expansion: int = 32
    num_res_blocks: int = 5


@dataclasses.dataclass(frozen=True)
class PredictorConfig:
    """Phi: MRAA's pixelwise flow predictor hourglass, with two flows, three attention maps
    and the decoder feature e_dec as its outputs."""

    block_expansion: int = 64
    max_features: int = 1024
    num_blocks: int = 5
    scale_factor: float = 0.25


@dataclasses.dataclass(frozen=True)
class LossConfig:
    symmetry: float = 0.1  # lambda_sym (eq. 4)
    depth_smoothness: float = 0.1  # lambda_D (eq. 4)
    perceptual: tuple[float, ...] = (10.0, 10.0, 10.0, 10.0, 10.0)  # L_rec (eq. 8)
    perceptual_scales: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125)
    equivariance: float = 10.0  # flow equivariance (eq. 8's "equivariance loss")
    sigma_affine: float = 0.05
    sigma_tps: float = 0.005
    points_tps: int = 5


@dataclasses.dataclass(frozen=True)
class StageOptim:
    """One stage's Adam learning rates and its lr drop (epochs counted within the stage)."""

    epochs: int = 10
    lr: float = 2.0e-4
    pose_lr: float = 2.0e-5  # stage 1 only: F_P's lr (F_D trains at `lr`)
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1


def paper_optim() -> OptimConfig:
    """The shared settings: Adam (0.5, 0.999), batch 5; epochs = the three stages' sum; no
    bench milestones (each stage drops its own lr, `Head3DConfig.stage_optim`)."""
    return OptimConfig(epochs=80, milestones=(), batch_size=5)


def paper_stages() -> tuple[StageOptim, StageOptim, StageOptim]:
    return (
        StageOptim(epochs=10, lr=2.0e-4, pose_lr=2.0e-5, milestones=(5,)),
        StageOptim(epochs=20, lr=2.0e-4, milestones=(10,)),
        StageOptim(epochs=50, lr=2.0e-4),
    )


@dataclasses.dataclass(frozen=True)
class Head3DConfig:
    image_size: int = 256  # full frame (stage 3)
    face_size: int = 128  # side of the head crops of stages 1 and 2
    num_ref_frames: int = 5  # N, the subject frames the canonical head is built from
    stages: tuple[int, ...] = STAGES  # the stages this run trains, one after the other
    perceptual: PerceptualMode = "pretrained"
    # F_P's start: "hopenet", the registry's Hopenet weights (the paper's initialisation; needs
    # pose.base_width 64 and pose.layers 3/4/6/3), loaded at the first stage-1 step; "random"
    pose_init: Literal["hopenet", "random"] = "hopenet"
    pyramid_downsample: PyramidDownsample = "antialias"
    camera: CameraConfig = dataclasses.field(default_factory=CameraConfig)
    head_mask: HeadMaskConfig = dataclasses.field(default_factory=HeadMaskConfig)
    depth: DepthNetConfig = dataclasses.field(default_factory=DepthNetConfig)
    pose: PoseNetConfig = dataclasses.field(default_factory=PoseNetConfig)
    head_codec: CodecConfig = dataclasses.field(default_factory=CodecConfig)
    frame_codec: CodecConfig = dataclasses.field(default_factory=CodecConfig)
    predictor: PredictorConfig = dataclasses.field(default_factory=PredictorConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    stage_optim: tuple[StageOptim, StageOptim, StageOptim] = dataclasses.field(
        default_factory=paper_stages
    )
    optim: OptimConfig = dataclasses.field(default_factory=paper_optim)

    def __post_init__(self) -> None:
        if not self.stages or any(s not in STAGES for s in self.stages):
            raise ValueError(f"stages must be a non-empty subset of {list(STAGES)}")
        if list(self.stages) != sorted(set(self.stages)):
            raise ValueError("stages must be increasing, without repeats")
        if self.num_ref_frames < 1:
            raise ValueError("num_ref_frames must be at least 1")
        if self.image_size % 4 or self.face_size % 4:
            raise ValueError("image_size and face_size must be divisible by 4 (2 down blocks)")
        if self.face_size % 2**self.depth.num_blocks:
            raise ValueError("face_size must be divisible by 2**depth.num_blocks (F_D's U-Net)")
        small = self.image_size * self.predictor.scale_factor
        if small != int(small) or int(small) % 2**self.predictor.num_blocks:
            raise ValueError(
                "image_size * predictor.scale_factor must be divisible by "
                "2**predictor.num_blocks (Phi's hourglass)"
            )
        run = sum(self.stage_optim[s - 1].epochs for s in self.stages)
        if self.optim.epochs != run:
            raise ValueError(
                f"optim.epochs ({self.optim.epochs}) must equal the epochs of the trained "
                f"stages ({run}): the bench maps them onto its steps"
            )
        if self.optim.milestones:
            raise ValueError("optim.milestones must be empty: each stage has its own")
        pose = self.pose
        if self.pose_init == "hopenet" and (pose.base_width, pose.layers) != (64, (3, 4, 6, 3)):
            raise ValueError("pose.init 'hopenet' needs Hopenet's ResNet-50 (64, [3, 4, 6, 3])")
