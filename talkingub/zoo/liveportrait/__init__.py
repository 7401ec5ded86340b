"""LivePortrait (Guo et al. 2024); importing registers `liveportrait` (stage I) and
`liveportrait-stitch` (stage II: stitching and eyes / lip retargeting)."""

from talkingub.zoo.liveportrait.config import LivePortraitConfig
from talkingub.zoo.liveportrait.model import LivePortrait
from talkingub.zoo.liveportrait.stitch import LivePortraitStitch

__all__ = ["LivePortrait", "LivePortraitConfig", "LivePortraitStitch"]
