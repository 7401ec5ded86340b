"""Typed configuration of PTUS (Lin et al., AAAI 2024) on the OSFV backbone.

Every OSFV field keeps its meaning (talkingub/zoo/osfv/config.py); PTUS adds the face branch and
the two switches that define the Table 4 ablations. Values and sources: configs/*/*.yaml.
"""

from __future__ import annotations

import dataclasses

from talkingub.zoo.osfv.config import OSFVConfig


@dataclasses.dataclass(frozen=True)
class PTUSConfig(OSFVConfig):
    face_size: int = 256  # side of the square face crop the face branch sees
    num_face_kp: int = 15  # keypoints of the face set (num_kp is the upper-body set)
    # FBMD: separate face and upper-body keypoints / pose / minor motion (eq. 1-5).
    # False = `ptus-no-fbmd`: one detector and one pose estimator for the whole upper body.
    face_body_split: bool = True
    # LGMD: m_l = e_D - R_D R_S^-1 e_S (eq. 6-7) drives a second, refining motion network
    # (eq. 9). False = `ptus-no-lgmd`: the whole face motion goes to the first network.
    local_global: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.face_size < 16:
            raise ValueError("face_size must be at least 16")
