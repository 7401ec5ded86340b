"""Training helpers shared by the three models: their optimisers (with the AVD stage's own
settings), the sum of the weighted loss terms, and the lazily built perceptual loss. The
training step itself is the bench's (`talkingub.bench.step`)."""

from __future__ import annotations

import torch
from torch import nn

from talkingub.models.optim import OptimConfig
from talkingub.zoo.common.perceptual import PerceptualLoss, PerceptualMode, PyramidDownsample
from talkingub.zoo.keypoint_common.config import AVDConfig


def build_adam(
    groups: dict[str, list[nn.Parameter]], optim: OptimConfig, avd: AVDConfig | None = None
) -> dict[str, torch.optim.Optimizer]:
    """One Adam per parameter group: `optim` settings, except the `avd` group, which gets the
    AVD stage's lr/betas and no weight decay (train_avd.py)."""
    out: dict[str, torch.optim.Optimizer] = {}
    for name, params in groups.items():
        if name == "avd" and avd is not None:
            out[name] = torch.optim.Adam(params, lr=avd.lr, betas=avd.betas)
        else:
            out[name] = torch.optim.Adam(
                params, lr=optim.lr, betas=optim.betas, weight_decay=optim.weight_decay
            )
    return out


def sum_losses(losses: dict[str, torch.Tensor], like: torch.Tensor) -> torch.Tensor:
    """Total of the weighted terms (a zero that still has a graph when there are none)."""
    return torch.stack(list(losses.values())).sum() if losses else like.sum() * 0.0


class LazyPerceptual:
    """The shared VGG-19 pyramid loss, built on first use and kept out of the state_dict.

    Inference never needs VGG; training with mode "pretrained" refuses to start (at the first
    step) when the weights are missing, naming `talkingub weights fetch vgg19`.
    """

    def __init__(
        self,
        mode: PerceptualMode,
        scales: tuple[float, ...],
        weights: tuple[float, ...],
        downsample: PyramidDownsample,
    ) -> None:
        self.mode = mode
        self.scales = scales
        self.weights = weights
        self.downsample: PyramidDownsample = downsample
        self._loss: PerceptualLoss | None = None

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self._loss is None:
            self._loss = PerceptualLoss(self.scales, self.weights, self.mode, self.downsample)
        self._loss = self._loss.to(pred.device)
        return self._loss(pred.float(), target.float())  # the pyramid resizing needs float32
