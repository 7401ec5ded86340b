"""Attention-based fusion (Head3D Sec. 3.3, eq. 7): the canonical head seen in the driving pose
x_dri (pasted into the frame at the driving head box), a reference frame s_ref and the
driving frame s_dri go into the flow and attention predictor Phi, which gives two backward
flows f_{x<-s_dri}, f_{s_ref<-s_dri}, three attention maps summing to 1 per pixel and the
decoder feature e_dec; E_F encodes x_dri and s_ref, and

    e_out = a_x * W(e_x, f_x) + a_ref * W(e_ref, f_ref) + a_dec * e_dec,   s_hat = Omega_F(e_out).

Phi is "built based on the flow predictor in MRAA ... slightly changed to predict three
attention maps": MRAA's pixelwise flow predictor hourglass (`talkingub.zoo.keypoint_common.
hourglass`, the input anti-alias down-sampled by `scale_factor`) on the three frames
concatenated. Without MRAA's regions there are no candidate motions to blend, so its output
convolutions (7x7, as MRAA's mask and occlusion heads) give the flows directly as offsets
from the identity grid (zero-initialised: training starts from no motion), the three attention
logits (softmax) and, through a third convolution, e_dec: "the intermediate feature from
decoder" is read as the predictor's hourglass decoder output mapped to E_F's width (our
reading). Flows, attention and e_dec are resized to E_F's feature resolution.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.zoo.head3d.camera import sample_grid
from talkingub.zoo.head3d.codec import ImageDecoder, ImageEncoder
from talkingub.zoo.head3d.config import CodecConfig, PredictorConfig
from talkingub.zoo.keypoint_common.antialias import AntiAliasDownsample
from talkingub.zoo.keypoint_common.geometry import coordinate_grid
from talkingub.zoo.keypoint_common.hourglass import Hourglass


@dataclasses.dataclass
class Prediction:
    head_flow: torch.Tensor  # [B, h, w, 2] grid into x_dri
    ref_flow: torch.Tensor  # [B, h, w, 2] grid into s_ref
    attention: torch.Tensor  # [B, 3, h, w]: head, reference, decoder
    decoder_feature: torch.Tensor  # e_dec [B, C, h, w]


class FlowAttentionPredictor(nn.Module):
    """Phi: (x_dri, s_ref, s_dri) -> two flows, three attention maps and e_dec."""

    def __init__(self, config: PredictorConfig, feature_channels: int) -> None:
        super().__init__()
        self.down = AntiAliasDownsample(9, config.scale_factor)
        self.hourglass = Hourglass(
            config.block_expansion, 9, config.num_blocks, config.max_features
        )
        out = self.hourglass.out_filters
        self.flow = nn.Conv2d(out, 4, 7, padding=3)
        nn.init.zeros_(self.flow.weight)
        assert self.flow.bias is not None
        nn.init.zeros_(self.flow.bias)
        self.attention = nn.Conv2d(out, 3, 7, padding=3)
        self.feature = nn.Conv2d(out, feature_channels, 7, padding=3)

    def forward(
        self,
        head: torch.Tensor,
        reference: torch.Tensor,
        driving: torch.Tensor,
        size: tuple[int, int],
    ) -> Prediction:
        features = self.hourglass(self.down(torch.cat([head, reference, driving], dim=1)))
        flow = _resize(self.flow(features), size)
        grid = coordinate_grid(*size, like=flow)[None]
        head_flow = grid + flow[:, :2].permute(0, 2, 3, 1)
        ref_flow = grid + flow[:, 2:].permute(0, 2, 3, 1)
        attention = F.softmax(_resize(self.attention(features), size).float(), dim=1)
        e_dec = _resize(self.feature(features), size)
        return Prediction(head_flow, ref_flow, attention, e_dec)


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class AttentionFusion(nn.Module):
    """E_F, Phi, Omega_F: (x_dri in the frame, s_ref, s_dri) -> s_hat [B, 3, H, W]."""

    def __init__(self, codec: CodecConfig, predictor: PredictorConfig) -> None:
        super().__init__()
        self.encoder = ImageEncoder(codec)  # E_F
        self.predictor = FlowAttentionPredictor(predictor, self.encoder.out_channels)  # Phi
        self.decoder = ImageDecoder(codec)  # Omega_F

    def predict(
        self, head: torch.Tensor, reference: torch.Tensor, driving: torch.Tensor
    ) -> Prediction:
        size = (head.shape[-2] // 4, head.shape[-1] // 4)
        return self.predictor(head, reference, driving, size)

    def forward(
        self, head: torch.Tensor, reference: torch.Tensor, driving: torch.Tensor
    ) -> tuple[torch.Tensor, Prediction]:
        pred = self.predict(head, reference, driving)
        e_head = sample_grid(self.encoder(head), pred.head_flow)
        e_ref = sample_grid(self.encoder(reference), pred.ref_flow)
        a = pred.attention.to(e_head.dtype)
        e_out = a[:, 0:1] * e_head + a[:, 1:2] * e_ref + a[:, 2:3] * pred.decoder_feature
        return self.decoder(e_out), pred
