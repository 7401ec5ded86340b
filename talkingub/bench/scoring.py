"""Scoring generated videos with the metrics suite, per video and over the whole list.

Every detector backend runs once per frame (generated and reference) and feeds both the
per-video metrics and the list-wide ones; variants (e.g. same identity without frame 0) reuse
the same detections, sliced. List-wide metrics are torchmetrics states, concatenated across
torchrun processes at `compute()`, so their values do not depend on the process count.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, cast

import numpy as np
import torch
from torchmetrics import Metric

from talkingub.bench.protocol import EvalConfig
from talkingub.metrics.base import FrameMetric, MetricResult
from talkingub.metrics.detection import DetectorMixin
from talkingub.metrics.frechet import FrechetDistance
from talkingub.metrics.suite import MetricSet, build_metric_set
from talkingub.vision.base import Backend

# Metrics that compare identity with the *source* image in the cross-identity task.
IDENTITY_METRICS = ("aed", "csim")
_NO_MISSING_OPTION = ("l1", "psnr", "ssim", "lpips", "mkr")


def metric_options(name: str, config: EvalConfig, sync: bool) -> dict[str, Any]:
    options = dict(config.options.get(name, {}))
    if name not in ("fid", "fvd"):
        options.setdefault("averaging", config.averaging)
        if name not in _NO_MISSING_OPTION:
            options.setdefault("missing", config.missing)
    if not sync:
        options["sync_on_compute"] = False
    return options


@dataclasses.dataclass
class Variant:
    """One scored quantity set, e.g. task 'same', 'same_excl0' or 'cross'."""

    task: str
    metrics: tuple[str, ...]
    first_frame: int = 0  # frames before this index are not scored


class Scorer:
    """Per-video and list-wide metrics for a list of variants sharing backends."""

    def __init__(self, variants: list[Variant], config: EvalConfig) -> None:
        self.config, self.variants = config, variants
        self.unavailable: dict[str, str] = {}
        self.totals: dict[str, dict[str, Metric]] = {}
        self.shared = MetricSet()  # detector backends shared by every metric and video
        for variant in variants:
            self.totals[variant.task] = self._build(variant.metrics, sync=True)

    @property
    def backends(self) -> dict[str, Backend]:
        return self.shared.backends

    def _build(self, names: tuple[str, ...], sync: bool) -> dict[str, Metric]:
        """Metrics not already known to be unavailable (a missing weights file or a backend
        that cannot load is n/a, or raises with `on_missing_weights: raise`)."""
        built = build_metric_set(
            [n for n in names if n not in self.unavailable],
            lambda name: metric_options(name, self.config, sync),
            self.config.on_missing_weights,
            share=self.shared,
        )
        self.unavailable.update(built.unavailable)
        return built.metrics

    def score(
        self, index: int, pred: np.ndarray, refs: dict[str, np.ndarray]
    ) -> list[dict[str, Any]]:
        """Update the list-wide metrics with one video; return its per-video rows.

        refs: 'driving' (ground truth / driving frames) and optionally 'source' (the source
        image repeated), each uint8 [T, H, W, 3] like `pred`.
        """
        detections = self._detect(pred, refs)
        rows = []
        for variant in self.variants:
            cut = slice(variant.first_frame, None)
            totals = self.totals[variant.task]
            per_video = tuple(n for n, m in totals.items() if not isinstance(m, FrechetDistance))
            local = self._build(per_video, sync=False)
            for name, total in totals.items():
                ref = _reference(name, refs)
                for metric in [total] + ([local[name]] if name in local else []):
                    _update(metric, pred[cut], refs[ref][cut], detections, ref, cut, index)
                if name in local:
                    rows.append({"task": variant.task, **_row(local[name])})
        return rows

    def _detect(self, pred: np.ndarray, refs: dict[str, np.ndarray]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for name, backend in self.backends.items():
            out[(name, "pred")] = backend(pred)
            for ref, frames in refs.items():
                out[(name, ref)] = backend(frames)
        return out

    def results(self) -> list[dict[str, Any]]:
        """List-wide values per task (every process must call this under torchrun)."""
        rows = []
        for variant in self.variants:
            for metric in self.totals[variant.task].values():
                rows.append({"task": variant.task, **_row(metric)})
            for name in variant.metrics:
                if name in self.unavailable:
                    rows.append({"task": variant.task, **_na(name, self.unavailable[name])})
        return rows


def _reference(name: str, refs: dict[str, np.ndarray]) -> str:
    return "source" if name in IDENTITY_METRICS and "source" in refs else "driving"


def _update(
    metric: Metric,
    pred: np.ndarray,
    ref: np.ndarray,
    detections: dict[Any, Any],
    ref_name: str,
    cut: slice,
    index: int,
) -> None:
    if isinstance(metric, FrechetDistance):
        metric.update(_chw(ref), real=True)
        metric.update(_chw(pred), real=False)
    elif isinstance(metric, DetectorMixin):
        key = metric.backend_name
        found = (_take(detections[(key, "pred")], cut), _take(detections[(key, ref_name)], cut))
        cast(Metric, metric).update(*found, video=index)
    else:
        metric.update(_chw(pred), _chw(ref), video=index)


def _chw(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)


def _take(found: Any, cut: slice) -> Any:
    """Detections (Keypoints / Embeddings) of the frames in `cut`."""
    n = len(found.detected)
    changes = {
        f.name: getattr(found, f.name)[cut]
        for f in dataclasses.fields(found)
        if isinstance(getattr(found, f.name), np.ndarray) and len(getattr(found, f.name)) == n
    }
    return dataclasses.replace(found, **changes)


def _row(metric: Metric) -> dict[str, Any]:
    if isinstance(metric, FrameMetric):
        result = metric.result()
    else:
        value = float(metric.compute())
        frames = int(getattr(metric, "fake_n", 0))
        result = MetricResult(
            str(getattr(metric, "metric_name", "") or _name_of(metric)),
            value,
            str(getattr(metric, "unit", "")),
            False,
            frames,
            0,
            None,
            None,
        )
    return _record(result)


def _name_of(metric: Metric) -> str:
    return "fvd" if "Video" in type(metric).__name__ else "fid"


def _record(result: MetricResult) -> dict[str, Any]:
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


def _na(name: str, note: str) -> dict[str, Any]:
    return _record(MetricResult(name, math.nan, "", False, 0, 0, None, None, note=note))


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
