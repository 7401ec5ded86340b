"""LIA: Latent Image Animator (Wang, Yang, Bremond, Dantcheva; ICLR 2022), our implementation."""

from baselines.lia.config import LIAConfig
from baselines.lia.model import LIA

__all__ = ["LIA", "LIAConfig"]
