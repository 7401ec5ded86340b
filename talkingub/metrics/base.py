"""Per-frame metric machinery shared by every same-identity metric.

Each metric turns a batch into one score per frame plus two flags (no detection in the
generated frame / no detection in the ground truth). States are lists concatenated across
processes (`dist_reduce_fx="cat"`), so frame- and video-averaging, the missing-detection
policy and the missing rates are all decided at `compute()` time from the same data, and
accumulating batch by batch gives exactly the one-shot result.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from talkingub.errors import ConfigError

Averaging = Literal["frame", "video"]
MissingPolicy = Literal["skip", "penalise"]
AVERAGING = ("frame", "video")
POLICIES = ("skip", "penalise")
MetricKind = Literal["frame", "distribution"]


class MetricFacts:
    """What scoring knows about a metric, read from its class (no instance, no weights
    loaded), beside `metric_name`, `unit` and `higher_is_better` (which every result, hence
    the bench's rows and leaderboard, carries).

    kind: "frame": one score per frame, averaged over frames or videos (`averaging`), so it
    also has a value per video; "distribution": one distance between the feature
    distributions of the generated and the real set (FID, FVD), list-wide only.
    weights: entries of the weights registry (`talkingub weights fetch NAME`) it loads by
    default; a detector's own weights belong to its backend.
    default_backend: the detector backend used unless `backend=` names another ("": none).
    takes_missing: accepts the missing-detection policy (`missing="skip" | "penalise"`).
    measures_identity: compares who is shown, so cross-identity scoring measures it against
    the source image rather than the driving frames.
    """

    kind: ClassVar[MetricKind] = "frame"
    weights: ClassVar[tuple[str, ...]] = ()
    default_backend: ClassVar[str] = ""
    takes_missing: ClassVar[bool] = False
    measures_identity: ClassVar[bool] = False


@dataclasses.dataclass(frozen=True)
class MetricResult:
    """One metric value with everything needed to compare it with a published number."""

    name: str
    value: float
    unit: str
    higher_is_better: bool
    frames: int  # frames that entered the average
    videos: int
    missing_rate: float | None  # generated frame had no detection where the target had one
    target_missing_rate: float | None  # ground-truth frame had no detection (never scored)
    backend: str = ""
    backend_version: str = ""
    contract: dict[str, Any] = dataclasses.field(default_factory=dict)
    note: str = ""  # e.g. why the value is n/a

    def as_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def not_available(name: str, note: str) -> MetricResult:
        """The result of a metric that could not be computed here, with the reason."""
        return MetricResult(name, math.nan, "", False, 0, 0, None, None, note=note)


@dataclasses.dataclass(frozen=True)
class FrameScores:
    """Per-frame output of a metric's functional core."""

    values: torch.Tensor  # [N] float64 (anything where a flag is set)
    pred_missing: torch.Tensor  # [N] bool
    target_missing: torch.Tensor  # [N] bool

    @staticmethod
    def complete(values: torch.Tensor) -> FrameScores:
        none = torch.zeros(len(values), dtype=torch.bool)
        return FrameScores(values.detach().double().cpu(), none, none.clone())


def check_contract(averaging: str, missing: str, penalty: float | None) -> None:
    if averaging not in AVERAGING:
        raise ConfigError(f"averaging must be one of {AVERAGING}, got {averaging!r}")
    if missing not in POLICIES:
        raise ConfigError(f"missing must be one of {POLICIES}, got {missing!r}")
    if missing == "penalise" and penalty is None:
        raise ConfigError("missing='penalise' needs a penalty value for frames with no detection")


def video_ids(video: int | torch.Tensor | None, n: int, averaging: str) -> torch.Tensor:
    if video is None:
        if averaging == "video":
            raise ConfigError("averaging='video' needs the video id of every frame (video=...)")
        return torch.zeros(n, dtype=torch.long)
    ids = torch.as_tensor(video, dtype=torch.long).flatten().cpu()
    return ids.expand(n).clone() if ids.numel() == 1 else ids


def summarise(
    scores: FrameScores, videos: torch.Tensor, averaging: str, missing: str, penalty: float | None
) -> tuple[float, int, int, float, float]:
    """(value, frames used, videos used, missing rate, target missing rate)."""
    scorable = ~scores.target_missing
    values = scores.values.clone()
    if missing == "penalise":
        values[scores.pred_missing] = float(penalty)  # type: ignore[arg-type]
        used = scorable
    else:
        used = scorable & ~scores.pred_missing
    value = _average(values[used].numpy(), videos[used].numpy(), averaging)
    n = len(values)
    miss = float(scores.pred_missing[scorable].double().mean()) if scorable.any() else float("nan")
    target_miss = float(scores.target_missing.double().mean()) if n else float("nan")
    return value, int(used.sum()), len(np.unique(videos[used].numpy())), miss, target_miss


def _average(values: np.ndarray, videos: np.ndarray, averaging: str) -> float:
    if len(values) == 0:
        return float("nan")
    if averaging == "frame":
        return float(values.mean())
    per_video = [values[videos == v].mean() for v in np.unique(videos)]
    return float(np.mean(per_video))


class FrameMetric(MetricFacts, Metric):
    """Base of the per-frame metrics: subclasses implement `frame_scores(pred, target)`."""

    full_state_update = False
    is_differentiable = False
    metric_name = ""
    unit = ""
    uses_detection = False
    values: list[torch.Tensor]
    videos: list[torch.Tensor]
    pred_missing: list[torch.Tensor]
    target_missing: list[torch.Tensor]

    def __init__(
        self,
        averaging: Averaging = "frame",
        missing: MissingPolicy = "skip",
        penalty: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_contract(averaging, missing, penalty)
        self.averaging = averaging
        self.missing = missing
        self.penalty = penalty
        for state in ("values", "videos", "pred_missing", "target_missing"):
            self.add_state(state, default=[], dist_reduce_fx="cat")
        self._result: MetricResult | None = None

    def frame_scores(self, pred: Any, target: Any) -> FrameScores:
        raise NotImplementedError

    def update(self, pred: Any, target: Any, video: int | torch.Tensor | None = None) -> None:
        scores = self.frame_scores(pred, target)
        n = len(scores.values)
        self.values.append(scores.values.double())
        self.videos.append(video_ids(video, n, self.averaging))
        self.pred_missing.append(scores.pred_missing)
        self.target_missing.append(scores.target_missing)

    def compute(self) -> torch.Tensor:
        scores = FrameScores(
            _cat(self.values, torch.float64),
            _cat(self.pred_missing, torch.bool),
            _cat(self.target_missing, torch.bool),
        )
        value, frames, videos, miss, target_miss = summarise(
            scores, _cat(self.videos, torch.long), self.averaging, self.missing, self.penalty
        )
        self._result = self._make_result(value, frames, videos, miss, target_miss)
        return torch.tensor(value, dtype=torch.float64)

    def result(self) -> MetricResult:
        """`compute()` plus unit, missing rates, backend and contract."""
        self.compute()
        assert self._result is not None
        return self._result

    def contract(self) -> dict[str, Any]:
        return {"averaging": self.averaging, "missing": self.missing, "penalty": self.penalty}

    def backend_info(self) -> tuple[str, str]:
        return "", ""

    def _make_result(
        self, value: float, frames: int, videos: int, miss: float, target_miss: float
    ) -> MetricResult:
        backend, version = self.backend_info()
        detect = self.uses_detection
        return MetricResult(
            name=self.metric_name,
            value=value,
            unit=self.unit,
            higher_is_better=bool(self.higher_is_better),
            frames=frames,
            videos=videos,
            missing_rate=miss if detect else None,
            target_missing_rate=target_miss if detect else None,
            backend=backend,
            backend_version=version,
            contract=self.contract(),
        )


def _cat(items: Any, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(items, list) and not items:
        return torch.zeros(0, dtype=dtype)
    return dim_zero_cat(items).to(dtype)


def one_shot(metric: FrameMetric, pred: Any, target: Any, video: Any = None) -> torch.Tensor:
    """Functional-twin helper: update once and compute."""
    metric.update(pred, target, video)
    return metric.compute()
