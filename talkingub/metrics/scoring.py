"""The scoring core of `talkingub metrics` (`evaluate_folders`) and of the bench
(`talkingub.bench.scoring`): a set of metrics that share detector backends, fed video by video.

`MetricScorer.update(video, pred, refs)` takes generated frames of one video and its
references, uint8 [T, H, W, 3] arrays (a video may arrive in several batches, in order):
`refs["driving"]` is the ground truth; `refs["source"]` (cross identity) the source image
repeated, which metrics that measure identity are scored against. Every detector backend runs
once per frame of each stream and feeds all the metrics that use it (`detect` lets callers
share one pass between scorers); pixel metrics get [T, 3, H, W] tensors; Fréchet distances get
the real and the generated set, FVD through one `ClipStream` per video, so batching never
changes which clips are scored. `results()` gives one `MetricResult` per metric, n/a with the
reason for a metric that cannot run here (`talkingub.metrics.suite`) and for a Fréchet
distance with too few samples. Every reference must have as many frames as `pred`
(`FrameCountError`, naming the video and both counts, otherwise).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import torch

from talkingub.metrics.base import MetricKind, MetricResult
from talkingub.metrics.catalogue import ScoredMetric, metric_class
from talkingub.metrics.detection import DetectorMixin
from talkingub.metrics.frechet import ClipStream, FrechetDistance, FrechetVideoDistance
from talkingub.metrics.media import FrameCountError
from talkingub.metrics.suite import MetricSet, OnUnavailable, build_metric_set
from talkingub.vision.base import Backend

References = Mapping[str, np.ndarray]
# (backend name, "pred" or a reference name) -> Keypoints | Embeddings of those frames
Detections = dict[tuple[str, str], Any]


def contract_options(
    name: str, averaging: str, missing: str, options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """`options` of metric `name` plus the contract where its class takes it: `averaging`
    for frame metrics, `missing` for those with a missing-detection policy."""
    facts = metric_class(name)
    chosen = dict(options or {})
    if facts.kind == "frame":
        chosen.setdefault("averaging", averaging)
        if facts.takes_missing:
            chosen.setdefault("missing", missing)
    return chosen


class MetricScorer:
    """The metrics `names`, each built with `options(name)`; unavailable ones are recorded
    (`on_unavailable="na"`) or raise. `share`: a scorer whose detector backends (and backend
    failures) these metrics reuse, so every detector loads once."""

    def __init__(
        self,
        names: Iterable[str],
        options: Callable[[str], dict[str, Any]],
        on_unavailable: OnUnavailable = "raise",
        share: MetricScorer | None = None,
    ) -> None:
        shared = share.built if share is not None else None
        self.built: MetricSet = build_metric_set(names, options, on_unavailable, shared)
        self._video: int | None = None
        self._streams: dict[str, tuple[ClipStream, ClipStream]] = {}

    @property
    def metrics(self) -> dict[str, ScoredMetric]:
        return self.built.metrics

    @property
    def backends(self) -> dict[str, Backend]:
        return self.built.backends

    @property
    def unavailable(self) -> dict[str, str]:
        return self.built.unavailable

    def names(self, kind: MetricKind) -> tuple[str, ...]:
        """The available metrics of one kind, in order."""
        return tuple(n for n, m in self.metrics.items() if m.kind == kind)

    def detect(self, pred: np.ndarray, refs: References) -> Detections:
        """Every backend once on the generated frames and on each reference."""
        found: Detections = {}
        for name, backend in self.backends.items():
            found[(name, "pred")] = backend(pred)
            for ref, frames in refs.items():
                found[(name, ref)] = backend(frames)
        return found

    def update(
        self,
        video: int,
        pred: np.ndarray,
        refs: References,
        detections: Detections | None = None,
        first_frame: int = 0,
    ) -> None:
        """Score frames `first_frame:` of `pred` (one video, or its next batch) against `refs`.

        `detections`: `detect(pred, refs)` already run (by this or a sharing scorer). A new
        `video` id starts new clip streams."""
        for ref, frames in refs.items():
            if len(frames) != len(pred):
                reference = "ground truth" if ref == "driving" else f"{ref} reference"
                raise FrameCountError(str(video), len(pred), len(frames), reference)
        if video != self._video:
            self._video, self._streams = video, self._clip_streams()
        found = self.detect(pred, refs) if detections is None else detections
        cut = slice(first_frame, None)
        for name, metric in self.metrics.items():
            ref = "source" if metric.measures_identity and "source" in refs else "driving"
            if isinstance(metric, FrechetDistance):
                self._add_sets(name, metric, _chw(refs[ref][cut]), _chw(pred[cut]))
            elif isinstance(metric, DetectorMixin):
                key = metric.backend_name
                generated, reference = (_from(found[(key, s)], first_frame) for s in ("pred", ref))
                metric.update(generated, reference, video=video)
            else:
                metric.update(_chw(pred[cut]), _chw(refs[ref][cut]), video=video)

    def _clip_streams(self) -> dict[str, tuple[ClipStream, ClipStream]]:
        """A (real, generated) stream per clip metric, fresh for every video."""
        return {
            name: (ClipStream(m.clip_length, m.max_clips), ClipStream(m.clip_length, m.max_clips))
            for name, m in self.metrics.items()
            if isinstance(m, FrechetVideoDistance)
        }

    def _add_sets(
        self, name: str, metric: FrechetDistance, real: torch.Tensor, fake: torch.Tensor
    ) -> None:
        streams = self._streams.get(name)
        if streams is not None:  # only the frames that complete clips of this video
            real, fake = streams[0].push(real), streams[1].push(fake)
        metric.update(real, real=True)
        metric.update(fake, real=False)

    def results(self) -> list[MetricResult]:
        """Each available metric's result in order, then the unavailable ones as n/a (under
        torchrun every process must call this: list-wide states are synchronised)."""
        done = [m.result() for m in self.metrics.values()]
        return done + [MetricResult.not_available(n, why) for n, why in self.unavailable.items()]


def _chw(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)


def _from(found: Any, first: int) -> Any:
    """Detections (Keypoints / Embeddings) of frames `first:`."""
    if not first:
        return found
    n = len(found.detected)
    changes = {
        f.name: getattr(found, f.name)[first:]
        for f in dataclasses.fields(found)
        if isinstance(getattr(found, f.name), np.ndarray) and len(getattr(found, f.name)) == n
    }
    return dataclasses.replace(found, **changes)
