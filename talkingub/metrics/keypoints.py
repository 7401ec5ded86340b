"""Keypoint metrics: AKD (body pose, or 68 face points), MKR (missing keypoint rate) and FLD
(68 face landmarks).

Per frame, on keypoints found in both frames (a finite point with confidence >= `threshold`),
coordinates first rescaled to a `resolution` x `resolution` frame (FOMM/MRAA evaluate at
256 px; None keeps the input pixels):
- distance "abs": mean absolute coordinate difference over x and y (FOMM pose-evaluation
  `cmp_with_missing.py` for body keypoints, `cmp_kp.py` for face-alignment's 68 points);
  "euclidean": mean L2 distance per keypoint.
- normalise "interocular" (FLD only): divided by the ground-truth outer-eye-corner distance.
A generated frame with no usable keypoint where the ground truth has some is a missing
detection: skipped (FOMM) or given `penalty` (missing="penalise"). Ground-truth frames with
no detection are never scored and are reported as `target_missing_rate`.
MKR per frame: share of ground-truth keypoints not found in the generated frame (MRAA,
pose-evaluation `cmp_with_missing.py`), averaged over frames whose ground truth has some.

`threshold=None` (the default) takes the backend's entry in `KEYPOINT_THRESHOLDS`: 0.5 on
MediaPipe's visibility; 0 for `rtmpose-m-body7`, whose backend already drops keypoints below
its own score threshold (0.3, mmpose's demo `--kpt-thr`), and for `fan-2dfan4`, whose
face-alignment original returns all 68 points of every face it finds; 0.5 for others (dlib-68
reports confidence 1).
AKD `points`: "body" (default; the backend's pose keypoints) or "face68" (face AKD of FOMM,
`cmp_kp.py`: 68 landmarks, default backend dlib-68, `fan-2dfan4` for face-alignment's 2D-FAN).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch

from talkingub.errors import ConfigError
from talkingub.metrics.base import (
    Averaging,
    FrameMetric,
    FrameScores,
    MissingPolicy,
    summarise,
    video_ids,
)
from talkingub.metrics.detection import DetectorMixin
from talkingub.vision.base import Backend, Keypoints
from talkingub.vision.geometry import interocular_distance

Distance = Literal["abs", "euclidean"]
Normalise = Literal["none", "interocular"]
PointSet = Literal["body", "face68"]
POINT_SETS = ("body", "face68")
FACE_POINTS = 68
FACE_BACKEND = "dlib-68"  # offline default of the face keypoint metrics; fan-2dfan4: paper
DEFAULT_THRESHOLD = 0.5
# backend -> the confidence a keypoint needs when `threshold` is not given (see module doc)
KEYPOINT_THRESHOLDS = {
    "mediapipe-pose": 0.5,
    "rtmpose-m-body7": 0.0,
    "fan-2dfan4": 0.0,
    "dlib-68": 0.5,
}


def default_threshold(backend: str) -> float:
    """The keypoint confidence threshold used with `backend` when none is given."""
    return KEYPOINT_THRESHOLDS.get(backend, DEFAULT_THRESHOLD)


def _scaled(kp: Keypoints, resolution: int | None) -> np.ndarray:
    if resolution is None:
        return kp.points
    h, w = kp.image_size
    return kp.points * np.array([resolution / w, resolution / h])


def _select(kp: Keypoints, indices: tuple[int, ...] | None, resolution: int | None, thr: float):
    points, visible = _scaled(kp, resolution), kp.visible(thr)
    if indices is not None:
        points, visible = points[:, list(indices)], visible[:, list(indices)]
    return points, visible


def keypoint_frames(
    pred: Keypoints,
    target: Keypoints,
    distance: Distance = "abs",
    normalise: Normalise = "none",
    resolution: int | None = 256,
    threshold: float = DEFAULT_THRESHOLD,
    indices: tuple[int, ...] | None = None,
) -> FrameScores:
    """Per-frame AKD/FLD scores and missing flags (the functional core)."""
    if len(pred.points) != len(target.points):
        raise ConfigError("pred and target detections have different frame counts")
    p, pv = _select(pred, indices, resolution, threshold)
    t, tv = _select(target, indices, resolution, threshold)
    both = pv & tv
    diff = np.nan_to_num(p - t)
    per_point = np.abs(diff).mean(-1) if distance == "abs" else np.linalg.norm(diff, axis=-1)
    counts = both.sum(axis=1)
    values = (per_point * both).sum(axis=1) / np.maximum(counts, 1)
    if normalise == "interocular":
        values = values / np.maximum(interocular_distance(np.nan_to_num(t)), 1e-6)
    target_missing = tv.sum(axis=1) == 0
    pred_missing = ~target_missing & (counts == 0)
    return FrameScores(
        torch.from_numpy(values.astype(np.float64)),
        torch.from_numpy(pred_missing),
        torch.from_numpy(target_missing),
    )


def missing_keypoint_frames(
    pred: Keypoints,
    target: Keypoints,
    threshold: float = DEFAULT_THRESHOLD,
    indices: tuple[int, ...] | None = None,
) -> FrameScores:
    """Per-frame share of ground-truth keypoints absent from the generated frame."""
    _, pv = _select(pred, indices, None, threshold)
    _, tv = _select(target, indices, None, threshold)
    gt = tv.sum(axis=1)
    lost = (tv & ~pv).sum(axis=1) / np.maximum(gt, 1)
    target_missing = torch.from_numpy(gt == 0)
    return FrameScores(
        torch.from_numpy(lost.astype(np.float64)),
        torch.zeros(len(gt), dtype=torch.bool),
        target_missing,
    )


class _KeypointMetric(DetectorMixin, FrameMetric):
    uses_detection = True
    takes_missing = True
    higher_is_better = False

    points: PointSet = "body"

    def __init__(
        self,
        backend: str | Backend | None = None,
        backend_options: dict[str, Any] | None = None,
        distance: Distance = "abs",
        resolution: int | None = 256,
        threshold: float | None = None,
        indices: tuple[int, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_backend(backend, backend_options)
        if distance not in ("abs", "euclidean"):
            raise ConfigError(f"distance must be 'abs' or 'euclidean', got {distance!r}")
        self.distance, self.resolution = distance, resolution
        self.threshold = default_threshold(self.backend_name) if threshold is None else threshold
        self.indices = indices
        self.normalise: Normalise = "none"

    def detected_points(self, pred: Any, target: Any) -> tuple[Keypoints, Keypoints]:
        p, t = self.detect(pred), self.detect(target)
        assert isinstance(p, Keypoints) and isinstance(t, Keypoints)
        if self.points == "face68":
            for found in (p, t):
                if found.points.shape[1] != FACE_POINTS:
                    raise ConfigError(
                        f"{self.metric_name} with points='face68' needs 68 face landmarks; "
                        f"backend {found.backend!r} gives {found.points.shape[1]} points"
                    )
        return p, t

    def frame_scores(self, pred: Any, target: Any) -> FrameScores:
        p, t = self.detected_points(pred, target)
        return keypoint_frames(
            p, t, self.distance, self.normalise, self.resolution, self.threshold, self.indices
        )

    def contract(self) -> dict[str, Any]:
        return {
            **super().contract(),
            "distance": self.distance,
            "normalise": self.normalise,
            "resolution": self.resolution,
            "threshold": self.threshold,
            "indices": list(self.indices) if self.indices is not None else None,
            "points": self.points,
        }


class AverageKeypointDistance(_KeypointMetric):
    """AKD, FOMM conventions: `points="body"` (default; pose keypoints, default backend
    mediapipe-pose; pose-evaluation `cmp_with_missing.py`) or `points="face68"` (68 face
    landmarks, default backend dlib-68, fan-2dfan4 as in FOMM; pose-evaluation `cmp_kp.py`)."""

    metric_name = "akd"
    default_backend = "mediapipe-pose"

    def __init__(
        self, points: PointSet = "body", backend: str | Backend | None = None, **kwargs: Any
    ) -> None:
        if points not in POINT_SETS:
            raise ConfigError(f"AKD points must be one of {POINT_SETS}, got {points!r}")
        if points == "face68" and backend is None:
            backend = FACE_BACKEND
        super().__init__(backend=backend, **kwargs)
        self.points = points

    @property
    def unit(self) -> str:  # type: ignore[override]
        return _pixel_unit(self.resolution)


class FaceLandmarkDistance(_KeypointMetric):
    """FLD on 68 face landmarks (default backend dlib-68)."""

    metric_name = "fld"
    default_backend = FACE_BACKEND
    points = "face68"

    def __init__(
        self, normalise: Normalise = "none", distance: Distance = "euclidean", **kwargs: Any
    ) -> None:
        super().__init__(distance=distance, **kwargs)
        if normalise not in ("none", "interocular"):
            raise ConfigError(f"normalise must be 'none' or 'interocular', got {normalise!r}")
        self.normalise = normalise

    @property
    def unit(self) -> str:  # type: ignore[override]
        if self.normalise == "interocular":
            return "fraction of inter-ocular distance"
        return _pixel_unit(self.resolution)


class MissingKeypointRate(_KeypointMetric):
    """MKR: share of ground-truth keypoints missing in the generated frame."""

    metric_name, unit = "mkr", "fraction of keypoints"
    default_backend = "mediapipe-pose"
    takes_missing = False  # a share of keypoints: a frame with none found scores 1, never missing

    def frame_scores(self, pred: Any, target: Any) -> FrameScores:
        p, t = self.detected_points(pred, target)
        return missing_keypoint_frames(p, t, self.threshold, self.indices)


def _pixel_unit(resolution: int | None) -> str:
    return f"px at {resolution}x{resolution}" if resolution else "px (input size)"


def average_keypoint_distance(
    pred: Keypoints,
    target: Keypoints,
    distance: Distance = "abs",
    normalise: Normalise = "none",
    resolution: int | None = 256,
    threshold: float = DEFAULT_THRESHOLD,
    averaging: Averaging = "frame",
    missing: MissingPolicy = "skip",
    penalty: float | None = None,
    video: Any = None,
) -> torch.Tensor:
    """Functional twin of AKD/FLD on precomputed detections."""
    scores = keypoint_frames(pred, target, distance, normalise, resolution, threshold)
    ids = video_ids(video, len(scores.values), averaging)
    value = summarise(scores, ids, averaging, missing, penalty)[0]
    return torch.tensor(value, dtype=torch.float64)


def missing_keypoint_rate(
    pred: Keypoints,
    target: Keypoints,
    threshold: float = DEFAULT_THRESHOLD,
    averaging: Averaging = "frame",
    video: Any = None,
) -> torch.Tensor:
    """Functional twin of `MissingKeypointRate`."""
    scores = missing_keypoint_frames(pred, target, threshold)
    ids = video_ids(video, len(scores.values), averaging)
    return torch.tensor(summarise(scores, ids, averaging, "skip", None)[0], dtype=torch.float64)
