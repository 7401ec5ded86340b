"""Building a set of metrics that share detector backends, with one policy for the metrics
that cannot run here.

A metric is *unavailable* when its weights file is missing (`WeightsMissingError`) or an
optional dependency of the metric or of its backend is (`DependencyError`). With
`on_unavailable="raise"` the typed error propagates (the CLI prints it as one line naming the
fix); with `"na"` the metric is left out and its reason recorded, to be reported as `n/a`
beside the others (`talkingub.metrics.scoring`, used by `talkingub metrics` and the bench).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, Literal

from talkingub.errors import DependencyError, TalkingubError, WeightsMissingError
from talkingub.metrics.catalogue import ScoredMetric, create_metric
from talkingub.metrics.detection import DetectorMixin
from talkingub.vision.base import Backend, create_backend

UNAVAILABLE_ERRORS = (WeightsMissingError, DependencyError)
OnUnavailable = Literal["raise", "na"]


@dataclasses.dataclass
class MetricSet:
    """Metrics by name, the backends they share, and why the others are unavailable."""

    metrics: dict[str, ScoredMetric] = dataclasses.field(default_factory=dict)
    backends: dict[str, Backend] = dataclasses.field(default_factory=dict)
    unavailable: dict[str, str] = dataclasses.field(default_factory=dict)
    # backend name -> the error creating it raised (so it is tried once)
    backend_failures: dict[str, TalkingubError] = dataclasses.field(default_factory=dict)


def build_metric_set(
    names: Iterable[str],
    options: Callable[[str], dict[str, Any]],
    on_unavailable: OnUnavailable = "raise",
    share: MetricSet | None = None,
) -> MetricSet:
    """Create each metric with `options(name)`, one backend instance per backend name.

    `share`: an earlier set whose backends (and backend failures) the new metrics reuse, so
    repeated sets (e.g. one per video) load each detector once."""
    built = MetricSet()
    if share is not None:
        built.backends, built.backend_failures = share.backends, share.backend_failures
    for name in names:
        try:
            built.metrics[name] = _create(name, options(name), built)
        except UNAVAILABLE_ERRORS as exc:
            if on_unavailable == "raise":
                raise
            built.unavailable[name] = str(exc)
    return built


def _create(name: str, options: dict[str, Any], built: MetricSet) -> ScoredMetric:
    metric = create_metric(name, **options)
    if isinstance(metric, DetectorMixin):
        metric._backend = _shared_backend(metric, built)
    return metric


def _shared_backend(metric: DetectorMixin, built: MetricSet) -> Backend:
    key = metric.backend_name
    if key in built.backend_failures:
        failure = built.backend_failures[key]
        raise type(failure)(str(failure))
    if key not in built.backends:
        try:
            built.backends[key] = metric._backend or create_backend(key, **metric._backend_options)
        except UNAVAILABLE_ERRORS as exc:
            built.backend_failures[key] = exc
            raise
    return built.backends[key]
