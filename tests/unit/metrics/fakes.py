"""Test doubles shared by the metric tests: random weight files with the real call contracts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image


class FakeI3D(torch.nn.Module):
    """Same call contract as StyleGAN-V's TorchScript I3D (clips in, 400-d out), random weights;
    features depend on time, space and colour so that clip boundaries change the value."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(3 * 2 * 2 * 2, 400)

    def forward(
        self,
        x: torch.Tensor,
        rescale: bool = False,
        resize: bool = False,
        return_features: bool = True,
    ) -> torch.Tensor:
        pooled = torch.nn.functional.adaptive_avg_pool3d(x, (2, 2, 2))
        return self.proj(pooled.flatten(1))


def write_i3d(path: Path) -> Path:
    torch.manual_seed(0)
    torch.jit.script(FakeI3D()).save(str(path))
    return path


def smooth_frames(seed: int, n: int, size: int = 32) -> np.ndarray:
    """uint8 RGB frames [n, size, size, 3] of smooth random content."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, 4, 4, generator=g)
    frames = torch.nn.functional.interpolate(low, size=(size, size), mode="bilinear")
    return (frames.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def write_frame_folder(folder: Path, frames: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"{i:04d}.png")
    return folder
