"""PTUS (AAAI 2024) and its ablations; importing registers ptus, ptus-no-fbmd, ptus-no-lgmd."""

from talkingub.zoo.ptus.config import PTUSConfig
from talkingub.zoo.ptus.model import PTUS, PTUSNoFBMD, PTUSNoLGMD

__all__ = ["PTUS", "PTUSConfig", "PTUSNoFBMD", "PTUSNoLGMD"]
