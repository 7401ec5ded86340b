"""`evaluate_folders`: the documented Python API behind `talkingub metrics PRED TARGET`.

Generated and ground-truth folders are paired item by item (videos or frame folders), frames
resized to `size` x `size`, streamed in batches; every detector runs once per frame and feeds
all metrics that use it. A metric that cannot run here (weights missing, or an optional
dependency of the metric or its backend missing) either raises the typed error naming the fix
(`talkingub weights fetch NAME`, `pip install 'talkingub[EXTRA]'`), or
(`on_missing_weights="na"`) is reported as n/a with that reason, as the bench does
(`talkingub.metrics.suite`). FVD gets each video's frames through a `ClipStream`, so it
scores the same clips whatever `batch` is; a Fréchet distance with too few samples is n/a.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import torch
from torchmetrics import Metric

from talkingub.errors import ConfigError
from talkingub.io.atomic import atomic_path, atomic_write_text
from talkingub.metrics.base import FrameMetric, MetricResult
from talkingub.metrics.catalog import DEFAULT_METRICS
from talkingub.metrics.detection import DetectorMixin
from talkingub.metrics.frechet import ClipStream, FrechetDistance, FrechetVideoDistance
from talkingub.metrics.media import batches, iter_frames, pair_items
from talkingub.metrics.suite import build_metric_set
from talkingub.vision.base import Backend


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    metrics: tuple[str, ...] = DEFAULT_METRICS
    size: int | None = 256
    stride: int = 1
    max_frames: int | None = None
    batch: int = 16
    averaging: Literal["frame", "video"] = "frame"
    missing: Literal["skip", "penalise"] = "skip"
    # weights or an optional dependency missing: raise the typed error, or report n/a
    on_missing_weights: Literal["raise", "na"] = "raise"
    # per-metric keyword options, e.g. {"akd": {"backend": "rtmpose-m-body7"}}
    options: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Evaluation:
    results: list[MetricResult]
    items: list[str]
    frames: int
    config: EvaluationConfig

    def records(self) -> list[dict[str, Any]]:
        return [r.as_record() for r in self.results]

    def to_frame(self) -> Any:
        import pandas as pd

        rows = [
            {**r, "contract": json.dumps(r["contract"], sort_keys=True)} for r in self.records()
        ]
        return pd.DataFrame(rows)

    def write(self, path: str | Path) -> Path:
        """Write `.json` (results + config) or `.parquet` (one row per metric)."""
        path = Path(path)
        if path.suffix == ".parquet":
            with atomic_path(path) as tmp:
                self.to_frame().to_parquet(tmp, index=False)
            return path
        if path.suffix != ".json":
            raise ConfigError(f"results file must end in .json or .parquet: {path}")
        payload = {
            "results": self.records(),
            "items": self.items,
            "frames": self.frames,
            "config": dataclasses.asdict(self.config),
        }
        return atomic_write_text(path, json.dumps(_plain(payload), indent=2) + "\n")


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def evaluate_folders(
    pred_dir: str | Path,
    target_dir: str | Path,
    config: EvaluationConfig | None = None,
    **overrides: Any,
) -> Evaluation:
    """Compute `config.metrics` between two folders of videos / frames (see module doc)."""
    config = dataclasses.replace(config or EvaluationConfig(), **overrides)
    built = build_metric_set(
        config.metrics,
        lambda name: _contract_options(name, config, dict(config.options.get(name, {}))),
        config.on_missing_weights,
    )
    metrics = built.metrics
    pairs = pair_items(Path(pred_dir), Path(target_dir))
    frames = 0
    for index, (pred_item, target_item) in enumerate(pairs):
        pred = iter_frames(pred_item, config.size, config.stride, config.max_frames)
        target = iter_frames(target_item, config.size, config.stride, config.max_frames)
        streams = _clip_streams(metrics)
        for pred_batch, target_batch in batches(pred, target, config.batch):
            _update_all(metrics, built.backends, streams, pred_batch, target_batch, index)
            frames += len(pred_batch)
    results = [_result(name, m) for name, m in metrics.items()]
    results += [_na(name, reason) for name, reason in built.unavailable.items()]
    order = {n: i for i, n in enumerate(config.metrics)}
    results.sort(key=lambda r: order.get(r.name, len(order)))
    return Evaluation(results, [p.name for p, _ in pairs], frames, config)


def _contract_options(
    name: str, config: EvaluationConfig, options: dict[str, Any]
) -> dict[str, Any]:
    if name in ("fid", "fvd"):
        return options
    options.setdefault("averaging", config.averaging)
    if name not in ("l1", "psnr", "ssim", "lpips", "mkr"):
        options.setdefault("missing", config.missing)
    return options


def _na(name: str, note: str) -> MetricResult:
    return MetricResult(name, float("nan"), "", False, 0, 0, None, None, note=note)


# metric name -> (real stream, generated stream), fresh for every video
Streams = dict[str, tuple[ClipStream, ClipStream]]


def _clip_streams(metrics: dict[str, Metric]) -> Streams:
    return {
        name: (ClipStream(m.clip_length), ClipStream(m.clip_length))
        for name, m in metrics.items()
        if isinstance(m, FrechetVideoDistance)
    }


def _update_all(
    metrics: dict[str, Metric],
    backends: dict[str, Backend],
    streams: Streams,
    pred: np.ndarray,
    target: np.ndarray,
    video: int,
) -> None:
    detections = {name: (b(pred), b(target)) for name, b in backends.items()}
    pred_t = torch.from_numpy(pred).permute(0, 3, 1, 2)
    target_t = torch.from_numpy(target).permute(0, 3, 1, 2)
    for name, metric in metrics.items():
        if isinstance(metric, FrechetDistance):
            _update_frechet(metric, streams.get(name), target_t, pred_t)
        elif isinstance(metric, DetectorMixin):
            cast(Metric, metric).update(*detections[metric.backend_name], video=video)
        else:
            metric.update(pred_t, target_t, video=video)


def _update_frechet(
    metric: FrechetDistance,
    streams: tuple[ClipStream, ClipStream] | None,
    real: torch.Tensor,
    fake: torch.Tensor,
) -> None:
    if streams is not None:  # FVD: only frames that complete clips of this video
        real, fake = streams[0].push(real), streams[1].push(fake)
    metric.update(real, real=True)
    metric.update(fake, real=False)


def _result(name: str, metric: Metric) -> MetricResult:
    if isinstance(metric, FrameMetric):
        return metric.result()
    assert isinstance(metric, FrechetDistance)
    try:
        value = float(metric.compute())
    except ConfigError as exc:  # too few frames / clips in a set
        return _na(name, str(exc))
    tag = str(getattr(metric.extractor, "tag", ""))
    return MetricResult(
        name,
        value,
        str(metric.unit),
        False,
        int(metric.fake_n),
        0,
        None,
        None,
        name,
        tag,
        contract=metric.contract(),
    )


def summary_table(evaluation: Evaluation) -> Any:
    """A rich Table: value, unit, missing-detection rates, frames, backend."""
    from rich.table import Table

    table = Table(title=f"{len(evaluation.items)} item(s), {evaluation.frames} frame pairs")
    for column in ("metric", "value", "unit", "missing", "gt missing", "frames", "backend"):
        table.add_column(column, justify="right" if column in ("value", "frames") else "left")
    for r in evaluation.results:
        arrow = "↑" if r.higher_is_better else "↓"
        value = "n/a" if math.isnan(r.value) else f"{r.value:.4f}"
        table.add_row(
            f"{r.name} {arrow}",
            value,
            r.unit or r.note,
            _rate(r.missing_rate),
            _rate(r.target_missing_rate),
            str(r.frames),
            r.backend_version or r.backend,
        )
    return table


def _rate(rate: float | None) -> str:
    if rate is None:
        return "-"
    return "n/a" if not math.isfinite(rate) else f"{100 * rate:.1f}%"


def evaluate_and_report(
    pred_dir: str | Path, target_dir: str | Path, out: Sequence[str | Path] = (), **overrides: Any
) -> Evaluation:
    """evaluate_folders + write each `out` path (.json / .parquet)."""
    evaluation = evaluate_folders(pred_dir, target_dir, **overrides)
    for path in out:
        evaluation.write(path)
    return evaluation
