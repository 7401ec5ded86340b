"""OSFV / face-vid2vid (Wang, Mallya & Liu, CVPR 2021); importing registers `osfv`."""

from talkingub.zoo.osfv.config import OSFVConfig
from talkingub.zoo.osfv.model import OSFV

__all__ = ["OSFV", "OSFVConfig"]
