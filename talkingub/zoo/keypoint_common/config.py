"""Config pieces shared by FOMM, MRAA and TPSMM."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OptimConfig:
    """Adam with MultiStepLR (gamma 0.1 at the epoch milestones), as in all three references."""

    lr: float = 2.0e-4
    betas: tuple[float, float] = (0.5, 0.999)
    weight_decay: float = 0.0
    epochs: int = 100
    lr_milestones: tuple[int, ...] = (60, 90)
    lr_gamma: float = 0.1
    num_repeats: int = 1
    batch_size: int = 1
    #: infinity-norm gradient clipping of the motion modules (TPSMM train.py); 0 = none.
    grad_clip_inf_norm: float = 0.0


@dataclass(frozen=True)
class AVDConfig:
    """AVD network and its second training stage (train_avd.py in MRAA and TPSMM)."""

    id_bottle_size: int = 64
    pose_bottle_size: int = 64
    lr: float = 1.0e-3
    betas: tuple[float, float] = (0.5, 0.999)
    epochs: int = 30
    lr_milestones: tuple[int, ...] = (20, 25)
    num_repeats: int = 150
    batch_size: int = 256
    random_scale: float = 0.25
    lambda_shift: float = 1.0
    lambda_affine: float = 1.0
