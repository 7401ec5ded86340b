"""The CUDA speed paths of the training step (autocast, GradScaler, channels-last weights and
inputs), run on CPU for every registered model: what `paper-gpu` turns on, minus the GPU.

These caught, before any GPU run: `Module.to(memory_format=channels_last)` raising on the
3-D convolutions of OSFV/PTUS, the CPU antialias kernel missing for bfloat16, and TPSMM's
thin-plate kernel giving NaN at the first float16 step.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from talkingub import list_models
from talkingub.bench.optim import batch_size_of
from talkingub.bench.precision import to_channels_last
from talkingub.bench.protocol import load_protocol, with_schedule
from talkingub.bench.train import TrainJob, harness_step
from tests.unit.models.test_zoo import make_batch, reconstruct_inputs


def _job(method: str, dtype: str, run_dir: Path) -> TrainJob:
    protocol = with_schedule(
        load_protocol("tiny-cpu", methods=[method]),
        amp=True,
        amp_dtype=dtype,
        amp_on_cpu=True,
        channels_last=True,
        channels_last_on_cpu=True,
        deterministic=False,
    )
    return TrainJob(method, run_dir, run_dir, protocol, 0, "cpu")


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("method", list_models())
def test_amp_channels_last_step_is_finite(method: str, dtype: str, tmp_path: Path) -> None:
    with harness_step(_job(method, dtype, tmp_path)) as (model, step):
        batch = make_batch(model.config, batch_size_of(model.config, 2))
        convs = [p for p in model.parameters() if p.dim() == 4]
        assert convs and all(p.is_contiguous(memory_format=torch.channels_last) for p in convs)
        for _ in range(2):
            losses = step(batch)
            assert losses and all(math.isfinite(v) for v in losses.values()), losses
        assert all(torch.isfinite(p).all() for p in model.parameters())
        frames = _reconstruct(model.eval(), batch, getattr(torch, dtype))
    assert frames.shape[:2] == (1, 2) and torch.isfinite(frames.float()).all()


def _reconstruct(model: object, batch: dict[str, torch.Tensor], dtype: torch.dtype) -> torch.Tensor:
    """Two driving frames through `reconstruct` under autocast (the fp16 inference row of
    benchmarks.train_throughput, and bench eval's bfloat16 generation)."""
    source, driving, extra = reconstruct_inputs(batch, 2)
    with torch.no_grad(), torch.autocast("cpu", dtype=dtype):
        return model.reconstruct(source, driving, **extra)  # type: ignore[attr-defined]


def test_channels_last_handles_3d_convolutions() -> None:
    model = torch.nn.Sequential(torch.nn.Conv3d(2, 4, 3), torch.nn.Conv2d(2, 4, 3))
    with pytest.raises(RuntimeError, match="rank 4"):
        torch.nn.Sequential(torch.nn.Conv3d(2, 4, 3)).to(memory_format=torch.channels_last)
    to_channels_last(model)
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last_3d)
    assert model[1].weight.is_contiguous(memory_format=torch.channels_last)
