"""Model-config optimiser settings mapped onto the bench schedule."""

from __future__ import annotations

from types import SimpleNamespace

from talkingub.bench.optim import epoch_at, milestone_steps, ordered_groups


def test_epoch_milestones_become_steps() -> None:
    fomm = SimpleNamespace(optim=SimpleNamespace(epochs=100, lr_milestones=(60, 90), lr_gamma=0.1))
    assert milestone_steps(fomm, 1000) == ([600, 900], 0.1)
    osfv = SimpleNamespace(optim=SimpleNamespace(epochs=300, milestones=(180,), gamma=0.5))
    assert milestone_steps(osfv, 30) == ([18], 0.5)
    assert milestone_steps(SimpleNamespace(), 10) == ([], 1.0)
    assert epoch_at(fomm, 500, 1000) == 50


def test_group_order_generator_first() -> None:
    assert ordered_groups(["avd", "discriminator", "generator"]) == [
        "generator",
        "discriminator",
        "avd",
    ]
