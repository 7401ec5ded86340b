"""Input conversion: metrics take float [N, 3, H, W] in [0, 1] (torchmetrics convention) or
uint8 [N, 3, H, W]; detectors get uint8 RGB numpy [N, H, W, 3]."""

from __future__ import annotations

import numpy as np
import torch

from talkingub.errors import ConfigError


def as_float(images: torch.Tensor | np.ndarray) -> torch.Tensor:
    """float32 [N, 3, H, W] in [0, 1]."""
    tensor = torch.as_tensor(images)
    if tensor.ndim != 4 or tensor.shape[1] != 3:
        raise ConfigError(f"images must be [N, 3, H, W], got {tuple(tensor.shape)}")
    if tensor.dtype == torch.uint8:
        return tensor.float() / 255.0
    return tensor.float()


def as_uint8_hwc(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """uint8 RGB [N, H, W, 3] for the detector backends."""
    tensor = torch.as_tensor(images)
    if tensor.dtype != torch.uint8:
        tensor = (as_float(tensor).clamp(0, 1) * 255).round().to(torch.uint8)
    elif tensor.ndim != 4 or tensor.shape[1] != 3:
        raise ConfigError(f"images must be [N, 3, H, W], got {tuple(tensor.shape)}")
    return np.ascontiguousarray(tensor.permute(0, 2, 3, 1).cpu().numpy())


def check_pair(pred: torch.Tensor, target: torch.Tensor) -> None:
    if pred.shape != target.shape:
        raise ConfigError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
