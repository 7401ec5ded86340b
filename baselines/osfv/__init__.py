"""OSFV / face-vid2vid (Wang, Mallya & Liu, CVPR 2021); importing registers `osfv`."""

from baselines.osfv.config import OSFVConfig
from baselines.osfv.model import OSFV

__all__ = ["OSFV", "OSFVConfig"]
