"""The loss terms of both stages.

- adversarial (Eq. 1, Eq. 3): the paper writes the log-likelihood GAN objective; "vanilla"
  computes it on the raw scores with the logistic loss, the generator maximising log D(fake)
  (the non-saturating form pix2pixHD's `GANLoss(use_lsgan=False)` trains with); "lsgan" is
  pix2pixHD's default least-squares form. Summed over the scales k (Eq. 1, Eq. 4).
- feature matching L_FM (Eq. 4, from pix2pixHD): L1 between the discriminator's features of
  the fake and the real input, every layer but the score, weighted 4 / (n_layers + 1) per
  layer and 1 / num_D per scale (NVIDIA/pix2pixHD@models/pix2pixHD_model.py).
- reconstruction: L1 (stage 1, Eq. 2) and the VGG-19 perceptual loss (stage 2, Eq. 4: the
  shared `talkingub.zoo.common.perceptual` loss at one scale with pix2pixHD's VGGLoss layer
  weights 1/32, 1/16, 1/8, 1/4, 1 on relu1_1 ... relu5_1).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

GanMode = Literal["vanilla", "lsgan"]
Scores = list[list[torch.Tensor]]


def gan_loss(outputs: Scores, real: bool, mode: GanMode) -> torch.Tensor:
    """Sum over scales of the loss of each scale's score map against the label `real`."""
    total = outputs[0][-1].new_zeros((), dtype=torch.float32)
    for features in outputs:
        score = features[-1].float()
        target = torch.full_like(score, 1.0 if real else 0.0)
        if mode == "lsgan":
            total = total + F.mse_loss(score, target)
        else:
            total = total + F.binary_cross_entropy_with_logits(score, target)
    return total


def feature_matching(fake: Scores, real: Scores) -> torch.Tensor:
    """pix2pixHD's discriminator feature matching (without lambda_feat)."""
    total = fake[0][-1].new_zeros((), dtype=torch.float32)
    num_d = len(fake)
    for fake_scale, real_scale in zip(fake, real):
        layer_weight = 4.0 / (len(fake_scale) - 1)  # n_layers + 1 layers before the score
        for f, r in zip(fake_scale[:-1], real_scale[:-1]):
            total = total + F.l1_loss(f.float(), r.detach().float()) * layer_weight / num_d
    return total
