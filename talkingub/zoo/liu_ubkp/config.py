"""Typed configuration of Liu et al.'s upper-body synthesis (`liu-ubkp`).

Defaults are the `paper` variant. The paper (Liu, Hu, Wang, Wang, Bai, Lian: "Video
synthesis of human upper body with realistic face", ISMAR 2019 adjunct) names its networks
(pix2pixHD [17] for both stages), its losses (Eq. 1-4) and three discriminator scales
(k = 1, 2, 3), and no other number. Every other value comes from pix2pixHD's published
options (NVIDIA/pix2pixHD@options/base_options.py, train_options.py), pix2pix [9], Everybody
Dance Now [6] or is ours; configs/paper.yaml names the source of each, and the README lists
every value that did not come from the paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from talkingub.models.optim import OptimConfig
from talkingub.zoo.common.perceptual import PerceptualMode
from talkingub.zoo.liu_ubkp.losses import GanMode
from talkingub.zoo.liu_ubkp.pix2pixhd import Norm


@dataclass(frozen=True)
class GeneratorConfig:
    """pix2pixHD's generator: G1 (`n_local_enhancers` 0, netG "global") or G1 + G2 ("local")."""

    ngf: int = 64
    n_downsample: int = 4
    n_blocks: int = 9
    n_local_enhancers: int = 0
    n_blocks_local: int = 3
    norm: Norm = "instance"


@dataclass(frozen=True)
class DiscriminatorConfig:
    ndf: int = 64
    n_layers: int = 3
    num_d: int = 3  # the paper's k = 1, 2, 3 (Eq. 1, Eq. 4)
    norm: Norm = "instance"


@dataclass(frozen=True)
class RenderConfig:
    """Condition images (keypoints.py); sizes are shares of the image side."""

    limb_width: float = 0.008
    landmark_width: float = 0.02
    min_visibility: float = 0.5
    faup_cell: int = 8  # pixels per FAUP entry in the FAUP image


@dataclass(frozen=True)
class LossWeights:
    """Stage 1: adversarial + l1 * L1 (Eq. 2, lambda). Stage 2: adversarial (L_TS) +
    feature_matching * L_FM (alpha) + perceptual * L_VGG (beta) (Eq. 4)."""

    landmark_adversarial: float = 1.0
    l1: float = 100.0
    frame_adversarial: float = 1.0
    feature_matching: float = 10.0
    perceptual: float = 10.0


@dataclass(frozen=True)
class LiuOptim(OptimConfig):
    """pix2pixHD: Adam lr 0.0002, beta1 0.5; 100 epochs at that lr, then 100 decaying it
    linearly to 0 (the bench's schedules are milestones, constant or cosine: no milestones
    here, a protocol may choose cosine)."""

    lr: float = 2.0e-4
    betas: tuple[float, float] = (0.5, 0.999)
    epochs: int = 200
    milestones: tuple[int, ...] = ()
    batch_size: int = 1


PERCEPTUAL_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)  # pix2pixHD VGGLoss


@dataclass(frozen=True)
class LiuConfig:
    image_size: int = 256
    landmark_size: int = 128  # side of the face-box-aligned landmark image (stage 1)
    temporal_window: int = 1  # L: the frame generator sees the L previous outputs
    landmark_generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    frame_generator: GeneratorConfig = field(
        default_factory=lambda: GeneratorConfig(ngf=32, n_local_enhancers=1)
    )
    landmark_discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    frame_discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    gan_mode: GanMode = "vanilla"
    perceptual: PerceptualMode = "pretrained"
    perceptual_layer_weights: tuple[float, ...] = PERCEPTUAL_WEIGHTS
    pyramid_downsample: Literal["gaussian", "antialias"] = "antialias"
    losses: LossWeights = field(default_factory=LossWeights)
    optim: LiuOptim = field(default_factory=LiuOptim)

    def __post_init__(self) -> None:
        if self.temporal_window < 1:
            raise ValueError(f"temporal_window (L) must be >= 1, got {self.temporal_window}")
        for name, size, gen in (
            ("frame_generator", self.image_size, self.frame_generator),
            ("landmark_generator", self.landmark_size, self.landmark_generator),
        ):
            factor = 2 ** (gen.n_downsample + gen.n_local_enhancers)
            if size % factor or size // factor < 2:
                raise ValueError(
                    f"{name}: the side ({size}) must be a multiple of 2^(n_downsample + "
                    f"n_local_enhancers) = {factor} with at least 2 px left at the bottleneck"
                )
