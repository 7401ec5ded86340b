"""Pixel metrics: L1, PSNR, SSIM (torchmetrics functional kernels) and LPIPS (torchmetrics'
LPIPS network with the AlexNet backbone from the weights registry).

Inputs: float [N, 3, H, W] in [0, 1] or uint8. Scores are per frame, then averaged per frame or
per video (`averaging`). L1 is the mean absolute difference of [0, 1] pixels (PTUS Table 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn
from torchmetrics.functional.image import (
    peak_signal_noise_ratio,
    structural_similarity_index_measure,
)

from talkingub.metrics.base import Averaging, FrameMetric, FrameScores, summarise, video_ids
from talkingub.metrics.images import as_float, check_pair


def l1_frames(pred: torch.Tensor, target: torch.Tensor) -> FrameScores:
    p, t = as_float(pred), as_float(target)
    check_pair(p, t)
    return FrameScores.complete((p - t).abs().flatten(1).mean(dim=1))


def psnr_frames(pred: torch.Tensor, target: torch.Tensor) -> FrameScores:
    p, t = as_float(pred).double(), as_float(target).double()
    check_pair(p, t)
    return FrameScores.complete(
        peak_signal_noise_ratio(p, t, data_range=1.0, reduction="none", dim=(1, 2, 3))
    )


def ssim_frames(pred: torch.Tensor, target: torch.Tensor) -> FrameScores:
    p, t = as_float(pred).float(), as_float(target).float()  # float64 conv is ~7x slower on CPU
    check_pair(p, t)
    values = structural_similarity_index_measure(p, t, data_range=1.0, reduction="none")
    return FrameScores.complete(torch.as_tensor(values).flatten())


class L1Distance(FrameMetric):
    metric_name, unit = "l1", "mean |Δ| of [0,1] pixels"
    higher_is_better = False

    def frame_scores(self, pred: Any, target: Any) -> FrameScores:
        return l1_frames(pred, target)


class PSNR(FrameMetric):
    metric_name, unit = "psnr", "dB (data range 1)"
    higher_is_better = True

    def frame_scores(self, pred: Any, target: Any) -> FrameScores:
        return psnr_frames(pred, target)


class SSIM(FrameMetric):
    metric_name, unit = "ssim", "index (gaussian σ=1.5, 11 px)"
    higher_is_better = True

    def frame_scores(self, pred: Any, target: Any) -> FrameScores:
        return ssim_frames(pred, target)


def l1_distance(
    pred: torch.Tensor, target: torch.Tensor, averaging: Averaging = "frame", video: Any = None
) -> torch.Tensor:
    """Functional twin of `L1Distance`."""
    return _functional(l1_frames(pred, target), averaging, video)


def psnr(
    pred: torch.Tensor, target: torch.Tensor, averaging: Averaging = "frame", video: Any = None
) -> torch.Tensor:
    """Functional twin of `PSNR` (per-frame PSNR, then averaged)."""
    return _functional(psnr_frames(pred, target), averaging, video)


def ssim(
    pred: torch.Tensor, target: torch.Tensor, averaging: Averaging = "frame", video: Any = None
) -> torch.Tensor:
    """Functional twin of `SSIM`."""
    return _functional(ssim_frames(pred, target), averaging, video)


def _functional(scores: FrameScores, averaging: Averaging, video: Any) -> torch.Tensor:
    ids = video_ids(video, len(scores.values), averaging)
    return torch.tensor(summarise(scores, ids, averaging, "skip", None)[0], dtype=torch.float64)


LpipsMode = Literal["pretrained", "random"]


def build_lpips_net(weights: str | Path | None = None, mode: LpipsMode = "pretrained") -> nn.Module:
    """torchmetrics' LPIPS 'alex' network: linear heads shipped with torchmetrics, AlexNet
    backbone from the weights registry (`alexnet-lpips`) or `weights`; `random` only for tests."""
    from torchmetrics.functional.image.lpips import _LPIPS

    net = _LPIPS(pretrained=True, net="alex", pnet_rand=True)
    if mode == "pretrained":
        from talkingub.vision.weights_file import weights_path

        state = torch.load(
            weights_path(weights, "alexnet-lpips"), map_location="cpu", weights_only=True
        )
        load_alexnet_features(net.net, state)
    return net.eval().requires_grad_(False)


def load_alexnet_features(backbone: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Copy torchvision AlexNet `features.<i>.*` tensors into LPIPS's slice modules."""
    targets = {}
    for name in backbone.state_dict():
        _, index, kind = name.split(".")  # slice<k>.<i>.<weight|bias>
        targets[f"features.{index}.{kind}"] = name
    missing = sorted(set(targets) - set(state))
    if missing:
        raise ValueError(f"AlexNet weights lack {missing[:3]}")
    backbone.load_state_dict({targets[k]: state[k] for k in targets})


def lpips_frames(net: nn.Module, pred: torch.Tensor, target: torch.Tensor) -> FrameScores:
    """Per-frame LPIPS from a `build_lpips_net` network ([0, 1] inputs mapped to [-1, 1])."""
    p, t = as_float(pred), as_float(target)
    check_pair(p, t)
    with torch.no_grad():
        values = net(p, t, normalize=True)
    return FrameScores.complete(values.flatten())


def lpips(
    pred: torch.Tensor,
    target: torch.Tensor,
    net: nn.Module | None = None,
    weights: str | Path | None = None,
    averaging: Averaging = "frame",
    video: Any = None,
) -> torch.Tensor:
    """Functional twin of `LPIPS`. Pass `net` (from `build_lpips_net`) to reuse a network
    across calls; otherwise one is built from `weights` (or the registry's `alexnet-lpips`)."""
    network = net if net is not None else build_lpips_net(weights)
    return _functional(lpips_frames(network, pred, target), averaging, video)


class LPIPS(FrameMetric):
    metric_name, unit = "lpips", "LPIPS v0.1 alex distance"
    higher_is_better = False

    def __init__(
        self, weights: str | Path | None = None, mode: LpipsMode = "pretrained", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.net = build_lpips_net(weights, mode)
        self.mode = mode

    def frame_scores(self, pred: Any, target: Any) -> FrameScores:
        return lpips_frames(self.net, pred, target)

    def backend_info(self) -> tuple[str, str]:
        return "lpips-alex", f"torchmetrics _LPIPS v0.1, backbone={self.mode}"
