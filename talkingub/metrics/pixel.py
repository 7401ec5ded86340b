"""Pixel metrics: L1, PSNR, SSIM (torchmetrics' SSIM kernel) and LPIPS (torchmetrics' LPIPS
network with the AlexNet backbone from the weights registry).

Inputs: float [N, 3, H, W] in [0, 1] or uint8. Scores are per frame, then averaged per frame or
per video (`averaging`). L1 is the mean absolute difference of [0, 1] pixels (PTUS Table 1).

PSNR per frame is 10·log10(1 / max(MSE, 10^(-max_db/10))) in float64 (data range 1): capped at
`max_db` (100 dB by default, i.e. MSE floored at 1e-10), so one identical frame cannot make the
mean infinite. SSIM uses a Gaussian window (σ = 1.5, 11 taps, K = (0.01, 0.03), population
covariances) on every channel; `border` chooses which windows are averaged: "reflect"
(default; torchmetrics: the images are reflect-padded by 5 px and the whole H x W map is
averaged) or "valid" (only windows inside the image, an (H-10) x (W-10) map: Wang et al.'s
MATLAB code, scikit-image, piq).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn
from torchmetrics.functional.image import structural_similarity_index_measure

from talkingub.errors import ConfigError
from talkingub.metrics.base import Averaging, FrameMetric, FrameScores, summarise, video_ids
from talkingub.metrics.images import as_float, check_pair

SsimBorder = Literal["reflect", "valid"]
SSIM_BORDERS = ("reflect", "valid")
SSIM_SIGMA = 1.5
SSIM_RADIUS = 5  # torchmetrics' Gaussian window: int(3.5 σ + 0.5) * 2 + 1 = 11 taps
PSNR_MAX_DB = 100.0  # = MSE floored at 1e-10 (data range 1)


def l1_frames(pred: torch.Tensor, target: torch.Tensor) -> FrameScores:
    p, t = as_float(pred), as_float(target)
    check_pair(p, t)
    return FrameScores.complete((p - t).abs().flatten(1).mean(dim=1))


def check_max_db(max_db: float) -> None:
    if not max_db > 0:
        raise ConfigError(f"PSNR max_db must be > 0, got {max_db!r}")


def psnr_frames(
    pred: torch.Tensor, target: torch.Tensor, max_db: float = PSNR_MAX_DB
) -> FrameScores:
    """Per-frame PSNR (dB, data range 1) capped at `max_db` (MSE floored at 10^(-max_db/10))."""
    check_max_db(max_db)
    p, t = as_float(pred).double(), as_float(target).double()
    check_pair(p, t)
    mse = (p - t).square().flatten(1).mean(dim=1)
    return FrameScores.complete(-10 * torch.log10(mse.clamp(min=10 ** (-max_db / 10))))


def check_border(border: str) -> None:
    if border not in SSIM_BORDERS:
        raise ConfigError(f"SSIM border must be one of {SSIM_BORDERS}, got {border!r}")


def ssim_frames(
    pred: torch.Tensor, target: torch.Tensor, border: SsimBorder = "reflect"
) -> FrameScores:
    """Per-frame SSIM; `border` "reflect" averages torchmetrics' reflect-padded H x W map,
    "valid" only the windows that lie inside the image (the map without its 5 px border)."""
    check_border(border)
    p, t = as_float(pred).float(), as_float(target).float()  # float64 conv is ~7x slower on CPU
    check_pair(p, t)
    if border == "reflect":
        values = structural_similarity_index_measure(
            p, t, sigma=SSIM_SIGMA, data_range=1.0, reduction="none"
        )
        return FrameScores.complete(torch.as_tensor(values).flatten())
    r = SSIM_RADIUS
    if min(p.shape[-2:]) <= 2 * r:
        raise ConfigError(f"SSIM border='valid' needs frames larger than {2 * r + 1} px")
    _, full = structural_similarity_index_measure(
        p, t, sigma=SSIM_SIGMA, data_range=1.0, reduction="none", return_full_image=True
    )
    # the padded map's interior is exactly the unpadded ("valid") convolution
    inside = torch.as_tensor(full)[..., r:-r, r:-r]
    return FrameScores.complete(inside.flatten(1).mean(dim=1))


class L1Distance(FrameMetric):
    metric_name, unit = "l1", "mean |Δ| of [0,1] pixels"
    higher_is_better = False

    def frame_scores(self, pred: Any, target: Any) -> FrameScores:
        return l1_frames(pred, target)


class PSNR(FrameMetric):
    """Per-frame PSNR capped at `max_db` (identical frames score `max_db`), then averaged."""

    metric_name = "psnr"
    higher_is_better = True

    def __init__(self, max_db: float = PSNR_MAX_DB, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_max_db(max_db)
        self.max_db = float(max_db)

    @property
    def unit(self) -> str:  # type: ignore[override]
        return f"dB (data range 1, capped at {self.max_db:g})"

    def frame_scores(self, pred: Any, target: Any) -> FrameScores:
        return psnr_frames(pred, target, self.max_db)

    def contract(self) -> dict[str, Any]:
        return {**super().contract(), "max_db": self.max_db}


class SSIM(FrameMetric):
    """Gaussian SSIM; `border`: "reflect" (default, torchmetrics) or "valid" (scikit-image)."""

    metric_name = "ssim"
    higher_is_better = True

    def __init__(self, border: SsimBorder = "reflect", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_border(border)
        self.border: SsimBorder = border

    @property
    def unit(self) -> str:  # type: ignore[override]
        return f"index (gaussian σ=1.5, 11 px, border={self.border})"

    def frame_scores(self, pred: Any, target: Any) -> FrameScores:
        return ssim_frames(pred, target, self.border)

    def contract(self) -> dict[str, Any]:
        return {**super().contract(), "border": self.border}


def l1_distance(
    pred: torch.Tensor, target: torch.Tensor, averaging: Averaging = "frame", video: Any = None
) -> torch.Tensor:
    """Functional twin of `L1Distance`."""
    return _functional(l1_frames(pred, target), averaging, video)


def psnr(
    pred: torch.Tensor,
    target: torch.Tensor,
    averaging: Averaging = "frame",
    video: Any = None,
    max_db: float = PSNR_MAX_DB,
) -> torch.Tensor:
    """Functional twin of `PSNR` (per-frame PSNR capped at `max_db`, then averaged)."""
    return _functional(psnr_frames(pred, target, max_db), averaging, video)


def ssim(
    pred: torch.Tensor,
    target: torch.Tensor,
    averaging: Averaging = "frame",
    video: Any = None,
    border: SsimBorder = "reflect",
) -> torch.Tensor:
    """Functional twin of `SSIM`."""
    return _functional(ssim_frames(pred, target, border), averaging, video)


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
    weights = ("alexnet-lpips",)

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
