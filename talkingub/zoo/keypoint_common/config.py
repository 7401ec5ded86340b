"""Config pieces shared by FOMM, MRAA and TPSMM (their `optim` is the shared
`talkingub.models.optim.OptimConfig`, whose defaults are these three references' Adam with
MultiStepLR, gamma 0.1 at the epoch milestones)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AVDConfig:
    """AVD network and its second training stage (train_avd.py in MRAA and TPSMM)."""

    id_bottle_size: int = 64
    pose_bottle_size: int = 64
    lr: float = 1.0e-3
    betas: tuple[float, float] = (0.5, 0.999)
    epochs: int = 30
    milestones: tuple[int, ...] = (20, 25)  # epochs of the AVD stage
    num_repeats: int = 150
    batch_size: int = 256
    random_scale: float = 0.25
    lambda_shift: float = 1.0
    lambda_affine: float = 1.0
