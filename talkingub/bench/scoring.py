"""The bench's scoring on the metrics' scoring core (`talkingub.metrics.scoring`): per video
and over the whole list, for several variants of one task.

Every detector backend runs once per video (generated frames and each reference) and feeds
both the per-video metrics and the list-wide ones of every variant; a variant (e.g. same
identity without frame 0) reuses the same detections, sliced. List-wide metrics are
torchmetrics states, concatenated across torchrun processes at `compute()`, so their values
do not depend on the process count.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from talkingub.bench.protocol import EvalConfig
from talkingub.metrics.base import MetricResult
from talkingub.metrics.scoring import MetricScorer, References, contract_options


@dataclasses.dataclass
class Variant:
    """One scored quantity set, e.g. task 'same', 'same_excl0' or 'cross'."""

    task: str
    metrics: tuple[str, ...]
    first_frame: int = 0  # frames before this index are not scored


class Scorer:
    """Per-video and list-wide metrics for a list of variants sharing backends. A metric that
    cannot run here (missing weights, a backend that cannot load) is n/a, or raises with
    `on_missing_weights: raise`."""

    def __init__(self, variants: list[Variant], config: EvalConfig) -> None:
        self.config, self.variants = config, variants
        self.totals: dict[str, MetricScorer] = {}
        self.shared: MetricScorer | None = None  # the first variant's: its backends serve all
        for variant in variants:
            total = MetricScorer(
                variant.metrics, self._options(sync=True), config.on_missing_weights, self.shared
            )
            self.totals[variant.task] = total
            self.shared = self.shared or total

    @property
    def unavailable(self) -> dict[str, str]:
        return {n: why for t in self.totals.values() for n, why in t.unavailable.items()}

    def _options(self, sync: bool) -> Callable[[str], dict[str, Any]]:
        def options(name: str) -> dict[str, Any]:
            cfg = self.config
            chosen = contract_options(name, cfg.averaging, cfg.missing, cfg.options.get(name))
            if not sync:  # a per-video value is this process's own
                chosen["sync_on_compute"] = False
            return chosen

        return options

    def score(self, index: int, pred: np.ndarray, refs: References) -> list[dict[str, Any]]:
        """Update the list-wide metrics with one video; return its per-video rows.

        refs: 'driving' (ground truth / driving frames) and optionally 'source' (the source
        image repeated), each uint8 [T, H, W, 3] like `pred`.
        """
        if self.shared is None:
            return []
        detections = self.shared.detect(pred, refs)
        rows = []
        for variant in self.variants:
            total = self.totals[variant.task]
            video = MetricScorer(
                total.names("frame"),
                self._options(sync=False),
                self.config.on_missing_weights,
                total,
            )
            for scorer in (total, video):
                scorer.update(index, pred, refs, detections, variant.first_frame)
            rows += [{"task": variant.task, **record(r)} for r in video.results()]
        return rows

    def results(self) -> list[dict[str, Any]]:
        """List-wide values per task (every process must call this under torchrun)."""
        return [
            {"task": variant.task, **record(result)}
            for variant in self.variants
            for result in self.totals[variant.task].results()
        ]


def record(result: MetricResult) -> dict[str, Any]:
    """The bench's row of a result (per_video.parquet, summary.json `totals`)."""
    return {
        "metric": result.name,
        "value": result.value,
        "unit": result.unit,
        "higher_is_better": result.higher_is_better,
        "frames": result.frames,
        "missing_rate": _nan(result.missing_rate),
        "target_missing_rate": _nan(result.target_missing_rate),
        "backend": result.backend_version or result.backend,
        "note": result.note,
    }


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
