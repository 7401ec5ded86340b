"""PTUS (AAAI 2024) and its ablations; importing registers ptus, ptus-no-fbmd,
ptus-no-fbmd-lgmd and ptus-no-lgmd."""

from talkingub.zoo.ptus.config import PTUSConfig, PTUSLossConfig
from talkingub.zoo.ptus.model import PTUS, PTUSNoFBMD, PTUSNoFBMDLGMD, PTUSNoLGMD

__all__ = ["PTUS", "PTUSConfig", "PTUSLossConfig", "PTUSNoFBMD", "PTUSNoFBMDLGMD", "PTUSNoLGMD"]
