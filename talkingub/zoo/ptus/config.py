"""Typed configuration of PTUS (Lin et al., AAAI 2024) on the OSFV backbone.

Every OSFV field keeps its meaning (talkingub/zoo/osfv/config.py); PTUS adds the face branch,
the two switches that define the Table 4 ablations, the face/body feature fusion and the
weight of the body-pose loss L_B (eq. 10). Values and sources: configs/*/*.yaml. Every new
field has a default (the paper's behaviour), so configs written before it keep loading.
"""

from __future__ import annotations

import dataclasses

from talkingub.zoo.osfv.config import LossConfig, OSFVConfig


@dataclasses.dataclass(frozen=True)
class PTUSLossConfig(LossConfig):
    # lambda_B of eq. 10 (body-pose loss L_B; losses.py). The paper gives no value; 20 =
    # lambda_cam (OSFV's head-pose weight), since L_B is the same term on the body estimator.
    # 0 switches L_B off; the teacher it needs is gated by `head_pose_loss` like L_cam's.
    body_pose: float = 20.0


@dataclasses.dataclass(frozen=True)
class PTUSConfig(OSFVConfig):
    face_size: int = 256  # side of the square face crop the face branch sees
    num_face_kp: int = 15  # keypoints of the face set (num_kp is the upper-body set)
    # FBMD: separate face and upper-body keypoints / pose / minor motion (eq. 1-5).
    # False = `ptus-no-fbmd` / `ptus-no-fbmd-lgmd`: one detector and one pose estimator for the
    # whole upper body.
    face_body_split: bool = True
    # LGMD: m_l = e_D - R_D R_S^-1 e_S (eq. 6-7) drives a second, refining motion network
    # (eq. 9). False = `ptus-no-lgmd` / `ptus-no-fbmd-lgmd`: no local motion, no refinement.
    local_global: bool = True
    # Face/body feature fusion (fusion.py): the refined features f_re inside the face region,
    # the body-warped f_init outside it ("we combine them with the body features"). Only acts
    # where refined facial features exist (face_body_split and local_global both true).
    face_fusion: bool = True
    # Soft edge of the face-region mask: the mask rises linearly from 0 at the face box edge
    # to 1 at this fraction of the box side inside it (0 = hard box). Paper silent.
    fusion_feather: float = 0.1
    loss: PTUSLossConfig = dataclasses.field(default_factory=PTUSLossConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.face_size < 16:
            raise ValueError("face_size must be at least 16")
        if not 0.0 <= self.fusion_feather <= 0.5:
            raise ValueError("fusion_feather must be in [0, 0.5] (a fraction of the box side)")

    @property
    def fuses_face(self) -> bool:
        """Whether the face/body feature fusion runs (it needs refined facial features)."""
        return self.face_fusion and self.face_body_split and self.local_global
