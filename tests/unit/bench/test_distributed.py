"""The process-group timeout knob of talkingub.bench.distributed."""

from __future__ import annotations

import datetime

import pytest

from talkingub.bench.distributed import collective_timeout
from talkingub.errors import ConfigError


def test_collective_timeout_reads_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALKINGUB_DIST_TIMEOUT", "90")
    assert collective_timeout() == datetime.timedelta(seconds=90)


def test_collective_timeout_unset_keeps_torch_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TALKINGUB_DIST_TIMEOUT", raising=False)
    assert collective_timeout() is None


def test_collective_timeout_rejects_garbage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALKINGUB_DIST_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="TALKINGUB_DIST_TIMEOUT"):
        collective_timeout()
