"""Frame loop shared by the three models' `animate`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch

from talkingub.errors import ConfigError

Motion = TypeVar("Motion")


def check_mode(mode: str, modes: tuple[str, ...], model: str) -> None:
    if mode not in modes:
        raise ConfigError(
            f"{model}: animate mode {mode!r} not supported (have: {', '.join(modes)})"
        )


def animate_sequence(
    source: torch.Tensor,
    driving: torch.Tensor,
    detect: Callable[[torch.Tensor], Motion],
    transfer: Callable[[Motion, Motion, Motion], Motion],
    render: Callable[[torch.Tensor, Motion, Motion, torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """Animate `source` [B,3,H,W] with `driving` [B,T,3,H,W] frame by frame -> [B,T,3,H,W].

    `transfer(source_motion, driving_motion, initial_driving_motion)` gives the motion to render;
    `render(source, source_motion, motion, driving_frame)` the frame (clamped to [0, 1]).
    """
    motion_source = detect(source)
    motion_initial = detect(driving[:, 0])
    frames = []
    for t in range(driving.shape[1]):
        frame = driving[:, t]
        motion = transfer(motion_source, detect(frame), motion_initial)
        frames.append(render(source, motion_source, motion, frame).clamp(0.0, 1.0))
    return torch.stack(frames, dim=1)
