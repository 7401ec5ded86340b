"""Scorer: a metric whose detector backend cannot load is n/a (or raises), the rest score."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from talkingub.bench.protocol import EvalConfig
from talkingub.bench.scoring import Scorer, Variant
from talkingub.errors import DependencyError
from talkingub.metrics import suite


def _frames(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)


@pytest.fixture
def blocked_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    def cannot_load(name: str, **_: Any) -> None:
        raise DependencyError(f"backend {name} needs a package that is not installed")

    monkeypatch.setattr(suite, "create_backend", cannot_load)


@pytest.mark.usefixtures("blocked_backends")
def test_unloadable_backend_makes_only_its_metrics_na() -> None:
    scorer = Scorer([Variant("same", ("l1", "akd"))], EvalConfig(on_missing_weights="na"))
    assert "akd" in scorer.unavailable and "not installed" in scorer.unavailable["akd"]
    scorer.score(0, _frames(0), {"driving": _frames(1)})
    rows = {row["metric"]: row for row in scorer.results()}
    assert np.isfinite(rows["l1"]["value"]) and rows["l1"]["value"] > 0
    assert "not installed" in str(rows["akd"])


@pytest.mark.usefixtures("blocked_backends")
def test_unloadable_backend_raises_when_asked() -> None:
    with pytest.raises(DependencyError, match="not installed"):
        Scorer([Variant("same", ("l1", "akd"))], EvalConfig(on_missing_weights="raise"))
