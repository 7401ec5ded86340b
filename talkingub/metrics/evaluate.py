"""`evaluate_folders`: the documented Python API behind `talkingub metrics PRED TARGET`.

Generated and ground-truth folders are paired item by item (videos or frame folders), frames
resized to `size` x `size` and streamed in batches through the scoring core
(`talkingub.metrics.scoring`, shared with the bench). Paired items must have the same number
of frames (after `stride` and `max_frames`): otherwise `FrameCountError` names the item and
both counts, unless `truncate=True` (`--truncate`) scores the common leading frames. Every
detector runs once per frame and
feeds all metrics that use it, FVD scores the same clips whatever `batch` is, and a Fréchet
distance with too few samples is n/a. A metric that cannot run here (weights missing, or an
optional dependency of the metric or its backend missing) either raises the typed error naming
the fix (`talkingub weights fetch NAME`, `pip install 'talkingub[EXTRA]'`), or
(`on_missing_weights="na"`) is reported as n/a with that reason, as the bench does.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from talkingub.errors import ConfigError
from talkingub.io.atomic import atomic_path, atomic_write_text
from talkingub.metrics.base import MetricResult
from talkingub.metrics.catalogue import DEFAULT_METRICS
from talkingub.metrics.media import (
    MediaItem,
    batches,
    expected_frames,
    iter_frames,
    pair_items,
)
from talkingub.metrics.scoring import MetricScorer, contract_options


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
    # paired items of different lengths: error (False) or score the first min(len) frames
    truncate: bool = False
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


# progress(item index, items, item name, frames scored in it, frames expected in it or None)
Progress = Callable[[int, int, str, int, int | None], None]


def evaluate_folders(
    pred_dir: str | Path,
    target_dir: str | Path,
    config: EvaluationConfig | None = None,
    progress: Progress | None = None,
    **overrides: Any,
) -> Evaluation:
    """Compute `config.metrics` between two folders of videos / frames (see module doc);
    `progress` is told the frames scored, after each batch."""
    config = dataclasses.replace(config or EvaluationConfig(), **overrides)
    scorer = MetricScorer(
        config.metrics,
        lambda name: contract_options(
            name, config.averaging, config.missing, config.options.get(name)
        ),
        config.on_missing_weights,
    )
    pairs = pair_items(Path(pred_dir), Path(target_dir))
    frames = 0
    for index, (pred_item, target_item) in enumerate(pairs):
        pred = iter_frames(pred_item, config.size, config.stride, config.max_frames)
        target = iter_frames(target_item, config.size, config.stride, config.max_frames)
        chunks = batches(pred, target, config.batch, config.truncate, pred_item.name)
        tell = _teller(progress, (index, len(pairs)), pred_item, config)
        done = 0
        for pred_batch, target_batch in chunks:
            scorer.update(index, pred_batch, {"driving": target_batch})
            frames += len(pred_batch)
            done += len(pred_batch)
            tell(done)
    order = {n: i for i, n in enumerate(config.metrics)}
    results = sorted(scorer.results(), key=lambda r: order.get(r.name, len(order)))
    return Evaluation(results, [p.name for p, _ in pairs], frames, config)


def _teller(
    progress: Progress | None, at: tuple[int, int], item: MediaItem, config: EvaluationConfig
) -> Callable[[int], None]:
    """`tell(frames done)` for item `at` = (index, count) (told 0 at once); nothing without
    `progress`."""
    if progress is None:
        return lambda done: None
    expected = expected_frames(item, config.stride, config.max_frames)
    progress(*at, item.name, 0, expected)
    return lambda done: progress(*at, item.name, done, expected)


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
