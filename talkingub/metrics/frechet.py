"""Fréchet distances between feature distributions: FID (Inception pool3, 2048-d) on frames
and FVD (I3D, 400-d) on clips, for the cross-identity protocol.

States are float64 running sums (feature sum, outer-product sum, count) for the real and the
generated set, reduced by summation across processes; the distance
‖μ₁-μ₂‖² + tr Σ₁ + tr Σ₂ - 2 tr (Σ₁Σ₂)^½ is computed in float64, the trace of the square
root from the eigenvalues of Σ₁Σ₂ (real parts, clamped at 0), with unbiased covariances.

Input contract: FID takes frames [N, 3, H, W]; FVD takes clips [N, 3, T, H, W] or one video's
frames in time order [T, 3, H, W], which the *metric* cuts into clips (the feature extractors
only ever see their network's input shape). A video streamed in batches goes through
`ClipStream`, so batching never changes which clips are scored.

FID `resize` (how frames reach Inception's 299 x 299): "torch-fidelity" (default; uint8 frames
resized inside torch-fidelity's extractor with its port of TensorFlow 1's bilinear resize, as
the original TF FID graph does) or "clean" (clean-fid's `mode="clean"`, GaParmar/clean-fid
`cleanfid/resize.py`: each channel as float32 resized with PIL bicubic to 299 x 299; the result
is then rounded to uint8, because torch-fidelity's extractor takes only uint8, and its own
resize is the identity at 299). FVD `clips`: "all" (default; every non-overlapping
`clip_length`-frame clip of each video) or "first" (StyleGAN-V's protocol: one clip per video,
its first `clip_length` frames; videos shorter than a clip add nothing).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torchmetrics import Metric

from talkingub.errors import ConfigError, DependencyError
from talkingub.metrics.base import MetricFacts, MetricResult
from talkingub.metrics.images import as_float
from talkingub.vision.weights_file import file_tag, weights_path

FeatureFn = Callable[[torch.Tensor], torch.Tensor]
FidResize = Literal["torch-fidelity", "clean"]
FID_RESIZES = ("torch-fidelity", "clean")
FvdClips = Literal["all", "first"]
FVD_CLIPS = ("all", "first")
INCEPTION_SIZE = 299


def frechet_distance(
    mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor
) -> torch.Tensor:
    """Fréchet distance of two Gaussians, in float64."""
    mu1, mu2, sigma1, sigma2 = (x.double() for x in (mu1, mu2, sigma1, sigma2))
    eig = torch.linalg.eigvals(sigma1 @ sigma2)
    sqrt_trace = eig.real.clamp(min=0).sqrt().sum()
    return (mu1 - mu2).square().sum() + sigma1.trace() + sigma2.trace() - 2 * sqrt_trace


def mean_cov(
    total: torch.Tensor, outer: torch.Tensor, n: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and unbiased covariance from running sums."""
    if n < 2:
        raise ConfigError(
            f"a Fréchet distance needs at least 2 samples in each set, got {int(n)} "
            "(FVD counts clips, FID frames)"
        )
    mu = total / n
    cov = (outer - n * torch.outer(mu, mu)) / (n - 1)
    return mu, cov


def frechet_from_features(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Functional twin: the distance between two feature matrices [N, D]."""
    stats = []
    for feats in (real.double(), fake.double()):
        n = torch.tensor(float(len(feats)), dtype=torch.float64)
        stats.append(mean_cov(feats.sum(0), feats.T @ feats, n))
    return frechet_distance(*stats[0], *stats[1])


class FrechetDistance(MetricFacts, Metric):
    """Fréchet distance of features from any extractor; `update(x, real=True|False)`."""

    full_state_update = False
    higher_is_better = False
    is_differentiable = False
    metric_name, unit = "frechet", "squared feature distance"
    kind = "distribution"
    real_sum: torch.Tensor
    real_outer: torch.Tensor
    real_n: torch.Tensor
    fake_sum: torch.Tensor
    fake_outer: torch.Tensor
    fake_n: torch.Tensor

    def __init__(self, extractor: FeatureFn | nn.Module, num_features: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.extractor = extractor
        self.num_features = num_features
        for prefix in ("real", "fake"):
            self.add_state(f"{prefix}_sum", torch.zeros(num_features, dtype=torch.float64), "sum")
            self.add_state(
                f"{prefix}_outer",
                torch.zeros(num_features, num_features, dtype=torch.float64),
                "sum",
            )
            self.add_state(f"{prefix}_n", torch.tensor(0.0, dtype=torch.float64), "sum")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            feats = self.extractor(x)
        return feats.reshape(len(feats), -1).double()

    def contract(self) -> dict[str, Any]:
        """The sampling choices recorded with the value (none for the generic distance)."""
        return {}

    def update(self, x: torch.Tensor, real: bool) -> None:
        self.update_features(self.features(x), real)

    def update_features(self, feats: torch.Tensor, real: bool) -> None:
        if feats.shape[1] != self.num_features:
            raise ConfigError(f"expected {self.num_features}-d features, got {feats.shape[1]}")
        feats = feats.double()
        prefix = "real" if real else "fake"
        setattr(self, f"{prefix}_sum", getattr(self, f"{prefix}_sum") + feats.sum(0))
        setattr(self, f"{prefix}_outer", getattr(self, f"{prefix}_outer") + feats.T @ feats)
        setattr(self, f"{prefix}_n", getattr(self, f"{prefix}_n") + len(feats))

    def compute(self) -> torch.Tensor:
        real = mean_cov(self.real_sum, self.real_outer, self.real_n)
        fake = mean_cov(self.fake_sum, self.fake_outer, self.fake_n)
        return frechet_distance(*real, *fake)

    def result(self) -> MetricResult:
        """`compute()` with unit, generated sample count, feature extractor and contract;
        n/a with the count when a set has fewer than 2 samples."""
        try:
            value = float(self.compute())
        except ConfigError as exc:
            return MetricResult.not_available(self.metric_name, str(exc))
        return MetricResult(
            self.metric_name,
            value,
            str(self.unit),
            bool(self.higher_is_better),
            int(self.fake_n),
            0,
            None,
            None,
            self.metric_name,
            str(getattr(self.extractor, "tag", "")),
            contract=self.contract(),
        )


def check_fid_resize(resize: str) -> None:
    if resize not in FID_RESIZES:
        raise ConfigError(f"FID resize must be one of {FID_RESIZES}, got {resize!r}")


def clean_resize(frames: torch.Tensor) -> torch.Tensor:
    """uint8 [N, 3, H, W] -> float32 [N, 3, 299, 299] in [0, 255]: clean-fid's "clean" resize
    (each channel a float32 PIL image, bicubic; not clipped, not quantised)."""
    from PIL import Image

    size = (INCEPTION_SIZE, INCEPTION_SIZE)
    planes = frames.cpu().numpy().astype(np.float32)
    out = np.empty((*planes.shape[:2], *size), dtype=np.float32)
    for i, frame in enumerate(planes):
        for c, plane in enumerate(frame):
            image = Image.fromarray(plane)  # a 2-D float32 array is a mode "F" image
            out[i, c] = np.asarray(image.resize(size, Image.Resampling.BICUBIC))
    return torch.from_numpy(out)


def inception_inputs(x: torch.Tensor, resize: FidResize = "torch-fidelity") -> torch.Tensor:
    """The uint8 [N, 3, h, w] batch handed to torch-fidelity's extractor: the frames themselves
    ("torch-fidelity": it resizes to 299), or clean-fid's resize rounded to uint8 ("clean")."""
    check_fid_resize(resize)
    images = (as_float(x).clamp(0, 1) * 255).round().to(torch.uint8)
    if resize == "clean":
        images = clean_resize(images).round().clamp(0, 255).to(torch.uint8)
    return images


class InceptionFeatures(nn.Module):
    """torch-fidelity's FID Inception-v3 (TF 2015-12-05 port) pool3 features, 2048-d, fed
    uint8 [N, 3, H, W] (resized to 299 by torch-fidelity, or first by clean-fid's convention:
    `resize`), weights from the registry (`inception-fid`)."""

    def __init__(
        self, weights: str | Path | None = None, resize: FidResize = "torch-fidelity"
    ) -> None:
        super().__init__()
        check_fid_resize(resize)
        self.resize = resize
        try:
            from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
        except ImportError:
            raise DependencyError(
                "FID needs torch-fidelity: pip install 'talkingub[metrics]'"
            ) from None
        path = weights_path(weights, "inception-fid")
        self.net = FeatureExtractorInceptionV3(
            "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(path)
        ).eval()
        self.tag = file_tag(path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(inception_inputs(x, self.resize))[0]


class FrechetInceptionDistance(FrechetDistance):
    """FID over Inception pool3 features of frames; `resize` "torch-fidelity" (default) or
    "clean" (clean-fid's PIL bicubic)."""

    metric_name, unit = "fid", "FID (Inception pool3)"
    weights = ("inception-fid",)

    def __init__(
        self,
        weights: str | Path | None = None,
        resize: FidResize = "torch-fidelity",
        **kwargs: Any,
    ) -> None:
        check_fid_resize(resize)
        super().__init__(InceptionFeatures(weights, resize), 2048, **kwargs)
        self.resize = resize

    def contract(self) -> dict[str, Any]:
        return {"resize": self.resize, "samples": "frames"}


class I3DFeatures(nn.Module):
    """StyleGAN-V's TorchScript I3D: clips [N, 3, T, H, W] (float in [0, 1] or uint8) -> 400-d.

    The extractor only accepts clips; cutting frame sequences into clips is the job of
    `FrechetVideoDistance` (it owns `clip_length`). Preprocessing outside the net as in
    common_metrics_on_video_quality (`fvd/styleganv/fvd.py` `preprocess_single`): shorter side
    resized to 224 (bilinear, the longer side rounded up), centre crop 224, scaled to [-1, 1];
    the net is called with rescale=False, resize=False, return_features=True. StyleGAN-V itself
    (`src/metrics/frechet_video_distance.py`) hands the net uint8-range clips with
    rescale=True, resize=True and lets it do both.
    """

    def __init__(self, weights: str | Path | None = None) -> None:
        super().__init__()
        path = weights_path(weights, "i3d-fvd")
        self.net = torch.jit.load(str(path), map_location="cpu").eval()
        self.tag = file_tag(path)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        if clips.ndim != 5 or clips.shape[1] != 3:
            raise ConfigError(f"I3D takes clips [N, 3, T, H, W], got {tuple(clips.shape)}")
        scale = 1 / 255 if clips.dtype == torch.uint8 else 1.0
        x = torch.stack([preprocess_clip(c) for c in clips.float() * scale])
        return self.net(x, rescale=False, resize=False, return_features=True)


def preprocess_clip(clip: torch.Tensor, size: int = 224) -> torch.Tensor:
    """[3, T, H, W] in [0, 1] -> [3, T, size, size] in [-1, 1] (common_metrics_on_video_quality
    `preprocess_single`: shorter side to `size`, the longer rounded up, bilinear)."""
    _, _, h, w = clip.shape
    scale = size / min(h, w)
    new = (size, math.ceil(w * scale)) if h < w else (math.ceil(h * scale), size)
    frames = torch.nn.functional.interpolate(
        clip.permute(1, 0, 2, 3), size=new, mode="bilinear", align_corners=False
    )
    top, left = (new[0] - size) // 2, (new[1] - size) // 2
    frames = frames[:, :, top : top + size, left : left + size]
    return (frames.permute(1, 0, 2, 3) - 0.5) * 2


def frames_to_clips(
    frames: torch.Tensor, clip_length: int, max_clips: int | None = None
) -> torch.Tensor:
    """One video [T, 3, H, W] -> non-overlapping clips [k, 3, L, H, W], k = T // L (remainder
    dropped), at most `max_clips` of them (the first ones)."""
    if frames.ndim != 4 or frames.shape[1] != 3:
        raise ConfigError(f"a video must be frames [T, 3, H, W], got {tuple(frames.shape)}")
    n = len(frames) // clip_length
    if max_clips is not None:
        n = min(n, max_clips)
    clips = frames[: n * clip_length].reshape(n, clip_length, *frames.shape[1:])
    return clips.permute(0, 2, 1, 3, 4)


class ClipStream:
    """One video's frames arriving in batches -> the frames that complete whole clips.

    `push(batch)` returns the leading k·L buffered frames (k >= 0) and keeps the rest, so
    feeding each returned chunk to `FrechetVideoDistance.update` scores exactly the clips
    of the whole video, whatever the batch size; after `max_clips` clips it returns nothing
    more. Use one stream per video and per set.
    """

    def __init__(self, clip_length: int, max_clips: int | None = None) -> None:
        self.clip_length = clip_length
        self.max_clips = max_clips
        self._given = 0
        self._pending: torch.Tensor | None = None

    def push(self, frames: torch.Tensor) -> torch.Tensor:
        left = None if self.max_clips is None else self.max_clips - self._given
        if left is not None and left <= 0:
            self._pending = None
            return frames[:0]
        buffered = frames if self._pending is None else torch.cat([self._pending, frames])
        clips = len(buffered) // self.clip_length
        if left is not None:
            clips = min(clips, left)
        cut = clips * self.clip_length
        self._given += clips
        self._pending = buffered[cut:]
        return buffered[:cut]


class FrechetVideoDistance(FrechetDistance):
    """FVD over I3D features of clips; `update(x, real)` takes either clips [N, 3, T, H, W]
    (all scored) or one whole video's frames in time order [T, 3, H, W], cut here into
    non-overlapping `clip_length`-frame clips (StyleGAN-V's 16 by default; a shorter remainder
    is dropped, so a video shorter than one clip adds nothing): every clip (`clips="all"`,
    default) or only the first (`clips="first"`, StyleGAN-V's one clip per video). A video fed
    in batches goes through a `ClipStream(clip_length, max_clips)`. Frames are float in [0, 1]
    or uint8.
    """

    metric_name, unit = "fvd", "FVD (I3D Kinetics-400 logits)"
    weights = ("i3d-fvd",)

    def __init__(
        self,
        weights: str | Path | None = None,
        clip_length: int = 16,
        clips: FvdClips = "all",
        **kwargs: Any,
    ) -> None:
        if clip_length < 1:
            raise ConfigError(f"clip_length must be >= 1, got {clip_length}")
        if clips not in FVD_CLIPS:
            raise ConfigError(f"FVD clips must be one of {FVD_CLIPS}, got {clips!r}")
        super().__init__(I3DFeatures(weights), 400, **kwargs)
        self.clip_length = clip_length
        self.clips: FvdClips = clips

    @property
    def max_clips(self) -> int | None:
        """Clips scored per video: None (all) or 1 (the first)."""
        return 1 if self.clips == "first" else None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        clips = x if x.ndim == 5 else frames_to_clips(x, self.clip_length, self.max_clips)
        if len(clips) == 0:
            return torch.zeros(0, self.num_features, dtype=torch.float64)
        return super().features(clips)

    def contract(self) -> dict[str, Any]:
        return {"clip_length": self.clip_length, "clips": self.clips, "samples": "clips"}
