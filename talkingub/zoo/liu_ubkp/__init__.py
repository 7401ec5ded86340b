"""Liu et al. (ISMAR 2019 adjunct): person-specific upper-body video synthesis from upper-body
keypoints, facial action units and pose; importing registers `liu-ubkp`."""

from talkingub.zoo.liu_ubkp.config import LiuConfig
from talkingub.zoo.liu_ubkp.model import LiuUBKP

__all__ = ["LiuConfig", "LiuUBKP"]
