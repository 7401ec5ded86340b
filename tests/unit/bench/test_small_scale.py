"""The CPU training scale: `small` model configs (FOMM, PTUS) load, build and train one step;
PTUS's appearance volume no longer squeezes the image; every shipped protocol's variant has a
config for each of its methods; a cosine schedule resumes exactly from a bench checkpoint."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from talkingub import create_model
from talkingub.bench import train as T
from talkingub.bench.distributed import DistInfo
from talkingub.bench.pretrained import model_config, pretrained_terms
from talkingub.bench.protocol import load_protocol, with_schedule
from talkingub.bench.train import make_step
from talkingub.models.registry import load_model_config
from talkingub.presets import preset_names
from tests.unit.models.test_zoo import make_batch


def volume_ratio(name: str, config: Any) -> float:
    """Values of the feature volume the generator decodes, per value of the image (3 H W):
    PTUS's 3-D appearance volume C x D x H/4 x W/4; FOMM's encoder output."""
    side = config.image_size
    if name == "ptus":
        cells = (side // 2**config.appearance.num_down_blocks) ** 2
        return config.feature_channels * config.feature_depth * cells / (3 * side * side)
    gen = config.generator
    channels = min(gen.max_features, gen.block_expansion * 2**gen.num_down_blocks)
    return channels * (side // 2**gen.num_down_blocks) ** 2 / (3 * side * side)


def test_volume_ratios_grow_from_tiny_to_small_to_paper() -> None:
    ratios = {
        (name, v): volume_ratio(name, load_model_config(name, v))
        for name in ("fomm", "ptus")
        for v in ("tiny", "small", "paper")
    }
    assert ratios[("ptus", "tiny")] == pytest.approx(1 / 3)  # the squeeze issue 16 names
    assert ratios[("ptus", "small")] == pytest.approx(16 / 3)
    assert ratios[("ptus", "paper")] == pytest.approx(32 / 3)
    assert [ratios[("fomm", v)] for v in ("tiny", "small", "paper")] == pytest.approx(
        [4 / 3, 8 / 3, 16 / 3]
    )


@pytest.mark.parametrize("name", ["fomm", "ptus"])
def test_small_configs_build_and_train_a_step_without_pretrained_weights(name: str) -> None:
    config = load_model_config(name, "small")
    assert config.image_size == 128
    assert not pretrained_terms(config)  # random-VGG perceptual, no Hopenet: runs offline
    torch.manual_seed(0)
    model = create_model(name, config).train()
    losses = make_step(model)(make_batch(model.config, batch=1))
    assert losses and all(math.isfinite(v) for v in losses.values()), losses


@pytest.mark.parametrize("name", preset_names("protocols"))
def test_every_shipped_protocol_has_a_config_of_its_variant_for_each_method(name: str) -> None:
    protocol = load_protocol(name)
    for method in protocol.methods:
        assert model_config(method, protocol) is not None


def test_small_cpu_trains_with_warm_up_and_cosine() -> None:
    schedule = load_protocol("small-cpu").schedule
    assert (schedule.lr_schedule, schedule.amp, schedule.deterministic) == ("cosine", False, False)
    assert 0 < schedule.warmup_steps < schedule.steps // 10
    assert schedule.steps % schedule.checkpoint_every == 0


@pytest.fixture
def _restore_torch_globals() -> Iterator[None]:
    """`_setup` switches deterministic mode and one thread on for the process."""
    deterministic, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    yield
    torch.use_deterministic_algorithms(deterministic)
    torch.set_num_threads(threads)


def _context(run_dir: Path) -> T._Context:
    protocol = with_schedule(
        load_protocol("tiny-cpu", methods=("fomm",)), steps=12, lr_schedule="cosine", warmup_steps=3
    )
    job = T.TrainJob("fomm", run_dir / "build", run_dir, protocol, device="cpu", progress=False)
    return T._setup(job, DistInfo())


def _advance(ctx: T._Context, times: int) -> list[float]:
    """`times` optimiser steps of every group from random gradients, then the schedulers; the
    generator lr of each step."""
    lrs = []
    for _ in range(times):
        lrs.append(ctx.optimizers["generator"].param_groups[0]["lr"])
        for group, optimizer in ctx.optimizers.items():
            for param in ctx.params[group]:
                param.grad = torch.ones_like(param)
            optimizer.step()
        for scheduler in ctx.schedulers.values():
            scheduler.step()
    return lrs


@pytest.mark.usefixtures("_restore_torch_globals")
def test_a_cosine_schedule_resumes_exactly_from_a_bench_checkpoint(tmp_path: Path) -> None:
    saved = _context(tmp_path)
    assert type(saved.schedulers["generator"]).__name__ == "SequentialLR"
    before = _advance(saved, 5)  # through the warm-up into the cosine
    T._save_checkpoint(saved, 5)
    torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)  # safe-loader values
    resumed = _context(tmp_path)
    assert T._resume(resumed) == 5
    for group in saved.schedulers:
        assert saved.schedulers[group].state_dict() == resumed.schedulers[group].state_dict()
    assert _advance(resumed, 7) == _advance(saved, 7)
    assert before[:3] == pytest.approx([2e-4 * (i + 1) / 4 for i in range(3)])
    assert saved.optimizers["generator"].param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)
