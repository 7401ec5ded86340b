"""Config pieces shared by FOMM, MRAA and TPSMM (their `optim` is the shared
`talkingub.models.optim.OptimConfig`, whose defaults are these three references' Adam with
MultiStepLR, gamma 0.1 at the epoch milestones)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AVDConfig:
    """AVD network and its training settings.

    Officially the AVD is a second stage, run by train_avd.py on the finished main checkpoint
    (snap-research/articulated-animation@6b2029788185 and
    yoyo-nb/Thin-Plate-Spline-Motion-Model@246d42e train_avd.py, `--mode train_avd` of run.py).
    The bench instead trains it in the main loop from step 0, as its own `avd` optimiser group
    stepped after the generator's, on keypoints / regions detected without gradient: `lr`,
    `betas`, `random_scale` and the lambdas apply; `epochs`, `milestones`, `num_repeats` and
    `batch_size` record the official stage and are not used (the `avd` group follows the
    main schedule and batch). See the README's known deviations.
    """

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
