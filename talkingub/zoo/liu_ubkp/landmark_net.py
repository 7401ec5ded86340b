"""Stage 1 (paper Sec. 4, Fig. 2): the target's facial landmark image from a FAUP vector.

G maps the FAUP image x (the vector filled into the centre of an empty image, `au.py`) to
the landmark image G(x) in the face box's frame (`landmark_size` square); D_k, k = 1, 2, 3,
tell (x, y) from (x, G(x)). Trained on the target's own frames (its FAUP, its landmarks);
driven by the source's FAUP. Images are in [-1, 1] inside the networks.
"""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.liu_ubkp.au import faup_image
from talkingub.zoo.liu_ubkp.config import LiuConfig
from talkingub.zoo.liu_ubkp.discriminators import MultiscaleDiscriminator
from talkingub.zoo.liu_ubkp.pix2pixhd import Pix2PixHDGenerator

FAUP_CHANNELS = 1
LANDMARK_CHANNELS = 1


class LandmarkGenerator(nn.Module):
    def __init__(self, config: LiuConfig) -> None:
        super().__init__()
        g = config.landmark_generator
        self.size = config.landmark_size
        self.cell = config.render.faup_cell
        self.net = Pix2PixHDGenerator(
            FAUP_CHANNELS,
            LANDMARK_CHANNELS,
            g.ngf,
            g.n_downsample,
            g.n_blocks,
            g.n_local_enhancers,
            g.n_blocks_local,
            g.norm,
        )

    def condition(self, faup: torch.Tensor) -> torch.Tensor:
        """[N, F] FAUP -> the generator's input image x [N, 1, s, s]."""
        return faup_image(faup.float(), self.size, self.cell)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [N, 1, s, s] -> G(x) [N, 1, s, s] in [-1, 1]."""
        return self.net(x)


def landmark_discriminator(config: LiuConfig) -> MultiscaleDiscriminator:
    d = config.landmark_discriminator
    channels = FAUP_CHANNELS + LANDMARK_CHANNELS
    return MultiscaleDiscriminator(channels, d.ndf, d.n_layers, d.num_d, d.norm)
