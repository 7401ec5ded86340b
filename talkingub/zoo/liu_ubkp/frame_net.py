"""Stage 3 of the pipeline (paper Sec. 5, Fig. 3): the target's frame from its UBKP-FL image,
temporally smoothed.

The condition x_t is the UBKP image (3 channels) and the landmark image pasted at the face
box (1 channel), "concatenated together into one image". Frames are generated in order; the
generator sees x_t and the L previous outputs G(x_{t-L}), ..., G(x_{t-1}) (3 L channels,
zero images before the first: "the first output G(x_{t-L}) is conditioned on ... a zero image
z"). In training a window of L + 1 frames starts from zeros, the outputs feeding the next
step with their gradients; at inference the whole sequence runs so. The temporal
discriminator sees the L + 1 conditions and the L + 1 frames (Eq. 3).
"""

from __future__ import annotations

import torch
from torch import nn

from talkingub.zoo.liu_ubkp.config import LiuConfig
from talkingub.zoo.liu_ubkp.discriminators import MultiscaleDiscriminator
from talkingub.zoo.liu_ubkp.pix2pixhd import Pix2PixHDGenerator

UBKP_CHANNELS = 3
CONDITION_CHANNELS = UBKP_CHANNELS + 1  # UBKP + pasted landmarks
FRAME_CHANNELS = 3


class FrameGenerator(nn.Module):
    def __init__(self, config: LiuConfig) -> None:
        super().__init__()
        g = config.frame_generator
        self.window = config.temporal_window
        self.net = Pix2PixHDGenerator(
            CONDITION_CHANNELS + FRAME_CHANNELS * self.window,
            FRAME_CHANNELS,
            g.ngf,
            g.n_downsample,
            g.n_blocks,
            g.n_local_enhancers,
            g.n_blocks_local,
            g.norm,
        )

    def forward(self, conditions: torch.Tensor) -> torch.Tensor:
        """conditions [B, T, 4, H, W] -> frames [B, T, 3, H, W] in [-1, 1], each generated
        from its condition and the L previous outputs (zeros before the first)."""
        b, t, _, h, w = conditions.shape
        zero = conditions.new_zeros(b, FRAME_CHANNELS, h, w)
        previous = [zero] * self.window
        outputs = []
        for k in range(t):
            x = torch.cat([conditions[:, k], *previous], dim=1)
            out = self.net(x)
            outputs.append(out)
            previous = [*previous[1:], out]
        return torch.stack(outputs, dim=1)


def temporal_discriminator(config: LiuConfig) -> MultiscaleDiscriminator:
    d = config.frame_discriminator
    channels = (CONDITION_CHANNELS + FRAME_CHANNELS) * (config.temporal_window + 1)
    return MultiscaleDiscriminator(channels, d.ndf, d.n_layers, d.num_d, d.norm)
