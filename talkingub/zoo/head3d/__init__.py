"""Head3D (WACV 2024), the few-shot track; importing registers `head3d`."""

from talkingub.zoo.head3d.config import Head3DConfig
from talkingub.zoo.head3d.model import Head3D

__all__ = ["Head3D", "Head3DConfig"]
