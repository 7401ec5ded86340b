"""Mixed precision and memory format of a training run: when they apply, and channels-last
weights for models with 3-D convolutions.

On CUDA both follow the protocol's `amp` / `channels_last`; on CPU only when
`amp_on_cpu` / `channels_last_on_cpu` ask for them too (the test suite runs every model's
AMP step that way, without a GPU).
"""

from __future__ import annotations

import torch

from talkingub.bench.protocol import ScheduleConfig


def amp_enabled(schedule: ScheduleConfig, device: torch.device) -> bool:
    return schedule.amp and (device.type == "cuda" or schedule.amp_on_cpu)


def channels_last_enabled(schedule: ScheduleConfig, device: torch.device) -> bool:
    return schedule.channels_last and (device.type == "cuda" or schedule.channels_last_on_cpu)


def to_channels_last(model: torch.nn.Module) -> None:
    """Channels-last weights: 4-D (2-D convolutions) as `channels_last`, 5-D (the 3-D
    convolutions of OSFV/PTUS) as `channels_last_3d`. `Module.to(memory_format=channels_last)`
    raises on the 5-D ones ("required rank 4 tensor")."""
    formats = {4: torch.channels_last, 5: torch.channels_last_3d}
    for tensor in [*model.parameters(), *model.buffers()]:
        if tensor.dim() in formats:
            tensor.data = tensor.data.contiguous(memory_format=formats[tensor.dim()])
