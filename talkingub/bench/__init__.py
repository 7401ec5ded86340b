"""`talkingub bench`: train every method under one protocol, evaluate same- and
cross-identity on fixed lists, and publish leaderboard tables beside the paper's numbers.

Imports stay lean: torch/torchvision and the data libraries; detector backends (mediapipe,
dlib) load only when a metric that needs them runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BenchResult", "BenchRun", "load_protocol", "run_all", "run_tiny_bench"]


def __getattr__(name: str) -> Any:
    if name in ("BenchRun", "BenchResult", "run_all", "run_tiny_bench"):
        from talkingub.bench import runner

        return getattr(runner, name)
    if name == "load_protocol":
        from talkingub.bench.protocol import load_protocol

        return load_protocol
    raise AttributeError(name)
