"""Model-config optimiser settings mapped onto the bench schedule, and the protocol's LR
schedules (milestones / constant / cosine with warm-up), resumed exactly from their state."""

from __future__ import annotations

import io
import itertools
import math
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from talkingub import list_models
from talkingub.bench.optim import (
    build_schedulers,
    epoch_at,
    milestone_steps,
    ordered_groups,
    reference_min_steps,
    scheduled_milestones,
)
from talkingub.bench.protocol import LRSchedule, ScheduleConfig, load_protocol
from talkingub.config import from_dict
from talkingub.errors import ConfigError
from talkingub.models.optim import OptimConfig, upgrade_legacy_keys
from talkingub.models.registry import load_model_config, model_spec
from talkingub.presets import preset_names


def test_epoch_milestones_become_steps() -> None:
    fomm = SimpleNamespace(optim=OptimConfig(epochs=100, milestones=(60, 90), gamma=0.1))
    assert milestone_steps(fomm, 1000) == ([600, 900], 0.1)
    osfv = SimpleNamespace(optim=OptimConfig(epochs=300, milestones=(180,), gamma=0.5))
    assert milestone_steps(osfv, 30) == ([18], 0.5)
    assert milestone_steps(SimpleNamespace(optim=OptimConfig(milestones=())), 10) == ([], 1.0)
    assert epoch_at(fomm, 500, 1000) == 50


def test_group_order_generator_first() -> None:
    assert ordered_groups(["avd", "discriminator", "generator"]) == [
        "generator",
        "discriminator",
        "avd",
    ]


@pytest.mark.parametrize("name", list_models())
def test_every_shipped_config_keeps_the_shared_optim_settings(name: str) -> None:
    for variant in model_spec(name).variants():
        config = load_model_config(name, variant)
        assert isinstance(config.optim, OptimConfig), (name, variant)
        assert config.optim.lr > 0 and config.optim.batch_size >= 1


def test_shipped_schedules_map_onto_the_bench_steps() -> None:
    assert milestone_steps(load_model_config("fomm", "paper"), 100) == ([60, 90], 0.1)
    assert milestone_steps(load_model_config("tpsmm", "paper"), 100) == ([70, 90], 0.1)
    assert milestone_steps(load_model_config("osfv", "paper"), 300) == ([180], 0.1)
    assert milestone_steps(load_model_config("lia", "paper"), 100) == ([], 1.0)  # iterations
    assert load_model_config("mraa", "paper").avd.milestones == (20, 25)


def test_configs_written_with_the_old_key_names_still_load() -> None:
    """e.g. the `model_config` of a checkpoint saved before the names were unified."""
    old = {"optim": {"lr_milestones": [10, 20], "lr_gamma": 0.5}, "avd": {"lr_milestones": [3]}}
    config = load_model_config("mraa", upgrade_legacy_keys(old))
    assert (config.optim.milestones, config.optim.gamma) == ((10, 20), 0.5)
    assert config.avd.milestones == (3,)
    assert load_model_config("mraa", old) == config  # the registry upgrades on its own
    with pytest.raises(ConfigError, match="lr_milestones"):  # both names: refused
        load_model_config("fomm", {"optim": {"lr_milestones": [1], "milestones": [2]}})


# --- the protocol's LR schedules (schedule.lr_schedule) ------------------------------------

FOMM_LIKE = SimpleNamespace(optim=OptimConfig(epochs=100, milestones=(60, 90), num_repeats=75))


def _lrs(schedule: ScheduleConfig, config: Any = FOMM_LIKE, lr: float = 1.0) -> list[float]:
    """The lr every step of `schedule` trains with, then the lr after the last step."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=lr)
    scheduler = build_schedulers({"generator": optimizer}, config, schedule)["generator"]
    seen = []
    for _ in range(schedule.steps):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return [*seen, optimizer.param_groups[0]["lr"]]


def _drops(lrs: list[float]) -> list[int]:
    """The steps that train at a lower lr than the step before."""
    return [i for i in range(1, len(lrs)) if lrs[i] < lrs[i - 1]]


def test_cosine_warms_up_linearly_then_anneals_to_zero() -> None:
    lrs = _lrs(ScheduleConfig(steps=20, lr_schedule="cosine", warmup_steps=4), lr=2e-4)
    assert lrs[:4] == pytest.approx([2e-4 * (i + 1) / 5 for i in range(4)])
    assert lrs[4] == pytest.approx(2e-4)  # the warm-up's end: the model's lr
    expected = [1e-4 * (1 + math.cos(math.pi * t / 16)) for t in range(17)]
    assert lrs[4:] == pytest.approx(expected, abs=1e-12)
    assert lrs[-1] == pytest.approx(0.0, abs=1e-12) and lrs[-2] > 0  # the last step still learns
    assert all(a >= b for a, b in itertools.pairwise(lrs[4:]))
    no_warmup = _lrs(ScheduleConfig(steps=10, lr_schedule="cosine"))
    assert no_warmup[0] == 1.0 and no_warmup[5] == pytest.approx(0.5)


def test_constant_stays_constant_after_its_warm_up() -> None:
    assert _lrs(ScheduleConfig(steps=8, lr_schedule="constant")) == [1.0] * 9
    lrs = _lrs(ScheduleConfig(steps=8, lr_schedule="constant", warmup_steps=3))
    assert lrs[:3] == pytest.approx([0.25, 0.5, 0.75])
    assert lrs[3:] == pytest.approx([1.0] * 6)


def test_a_warm_up_longer_than_the_run_is_cut_to_steps_minus_one() -> None:
    lrs = _lrs(ScheduleConfig(steps=3, lr_schedule="cosine", warmup_steps=50))
    assert lrs[:2] == pytest.approx([1 / 3, 2 / 3])
    assert lrs[2] == pytest.approx(1.0) and lrs[3] == pytest.approx(0.0, abs=1e-12)


def test_milestones_is_still_the_default_and_can_be_switched_off() -> None:
    assert ScheduleConfig().lr_schedule == "milestones"
    for name in preset_names("protocols"):
        schedule = load_protocol(name).schedule
        if name in ("tiny-cpu", "paper-gpu"):
            assert (schedule.lr_schedule, schedule.warmup_steps) == ("milestones", 0), name
    # paper-gpu's run is longer than every model's own schedule: the plain mapping
    lrs = _lrs(ScheduleConfig(steps=10_000), lr=1.0)
    assert _drops(lrs) == [6000, 9000]
    assert _lrs(ScheduleConfig(steps=10, lr_milestones=False)) == [1.0] * 11


def test_short_runs_place_no_milestone_before_80_percent() -> None:
    # FOMM: 100 epochs x 75 repeats; a 100-step run would drop the lr at step 60 and 90
    assert milestone_steps(FOMM_LIKE, 100) == ([60, 90], 0.1)
    assert reference_min_steps(FOMM_LIKE) == 7500
    assert scheduled_milestones(FOMM_LIKE, 100) == ([80, 90], 0.1)
    assert scheduled_milestones(FOMM_LIKE, 10) == ([8, 9], 0.1)
    assert scheduled_milestones(FOMM_LIKE, 4) == ([4], 0.1)  # both at the end: never reached
    assert scheduled_milestones(FOMM_LIKE, 7500) == ([4500, 6750], 0.1)  # not short
    assert _drops(_lrs(ScheduleConfig(steps=100))) == [80, 90]
    for name in list_models():
        for variant in model_spec(name).variants():
            config = load_model_config(name, variant)
            for steps in (3, 10, 100, 1500, 100_000):
                milestones, _ = scheduled_milestones(config, steps)
                if steps < reference_min_steps(config):
                    assert all(m >= 0.8 * steps for m in milestones), (name, variant, steps)
                else:
                    assert (milestones, _) == milestone_steps(config, steps), (name, variant)


def test_schedule_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="warmup_steps needs lr_schedule"):
        ScheduleConfig(warmup_steps=10)  # milestones keep the model's lr from step 0
    with pytest.raises(ConfigError, match="warmup_steps must be >= 0"):
        ScheduleConfig(lr_schedule="cosine", warmup_steps=-1)
    with pytest.raises(ConfigError, match="lr_schedule"):
        from_dict(ScheduleConfig, {"lr_schedule": "linear"}, where="schedule")


def _train(
    schedule: ScheduleConfig, steps: range, state: dict[str, Any] | None
) -> tuple[list[float], dict[str, Any], torch.Tensor]:
    """Steps `steps` of a two-group toy model from `state` (None: fresh): the lrs they used,
    the state after them (through torch.save / the safe loader, as a checkpoint) and the
    weights."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizers: dict[str, torch.optim.Optimizer] = {
        "generator": torch.optim.Adam([model.weight], lr=2e-4),
        "discriminator": torch.optim.Adam([model.bias], lr=1e-3),
    }
    schedulers = build_schedulers(optimizers, FOMM_LIKE, schedule)
    if state is not None:
        model.load_state_dict(state["model"])
        for group in optimizers:
            optimizers[group].load_state_dict(state["optimizers"][group])
            schedulers[group].load_state_dict(state["schedulers"][group])
    lrs = []
    for step in steps:
        gen = torch.Generator().manual_seed(step)
        x = torch.randn(4, 3, generator=gen)
        for optimizer in optimizers.values():
            optimizer.zero_grad()
            model(x).square().mean().backward()
            optimizer.step()
            lrs.append(optimizer.param_groups[0]["lr"])
        for scheduler in schedulers.values():
            scheduler.step()
    saved = {
        "model": model.state_dict(),
        "optimizers": {g: o.state_dict() for g, o in optimizers.items()},
        "schedulers": {g: s.state_dict() for g, s in schedulers.items()},
    }
    buffer = io.BytesIO()
    torch.save(saved, buffer)
    buffer.seek(0)
    return lrs, torch.load(buffer, weights_only=True), model.weight.detach().clone()


@pytest.mark.parametrize("kind", ["cosine", "constant", "milestones"])
@pytest.mark.parametrize("stop", [2, 5, 6, 11])  # in the warm-up, at its end, after it
def test_a_schedule_resumed_from_its_state_dict_continues_identically(
    kind: LRSchedule, stop: int
) -> None:
    schedule = ScheduleConfig(
        steps=16, lr_schedule=kind, warmup_steps=0 if kind == "milestones" else 5
    )
    whole, _, weight = _train(schedule, range(16), None)
    first, state, _ = _train(schedule, range(stop), None)
    rest, _, resumed = _train(schedule, range(stop, 16), state)
    assert first + rest == whole  # exactly, not approximately
    assert torch.equal(resumed, weight)
