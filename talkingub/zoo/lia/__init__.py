"""LIA: Latent Image Animator (Wang, Yang, Bremond, Dantcheva; ICLR 2022), our implementation."""

from talkingub.zoo.lia.config import LIAConfig
from talkingub.zoo.lia.model import LIA

__all__ = ["LIA", "LIAConfig"]
