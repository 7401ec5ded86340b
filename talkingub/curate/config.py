"""Typed settings of `talkingub build`, loaded from a YAML recipe (the shipped one:
`talkingub/presets/recipes/talking-ub.yaml`).

Every threshold here is a *decision* setting: detectors record raw scores, and only the
filters compare them to these numbers, so `talkingub refilter` can change them without
running detection again. Settings under `analysis` change what is measured (a change there
invalidates the per-video analysis cache).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from talkingub.config import config_hash, to_dict
from talkingub.errors import ConfigError
from talkingub.presets import preset_path


@dataclasses.dataclass(frozen=True)
class ShotConfig:
    detector: Literal["content"] = "content"  # PySceneDetect ContentDetector
    threshold: float = 27.0  # PySceneDetect's default cut threshold (content_val)
    min_scene_seconds: float = 0.6
    downscale_width: int = 256  # frames are resized to this width for shot detection


@dataclasses.dataclass(frozen=True)
class AnalysisConfig:
    backend: str = "mediapipe"  # person-analysis backend (registry: talkingub.curate.analysis)
    # modules imported (in every worker) before the backend is looked up: user backends
    plugins: tuple[str, ...] = ()
    sample_fps: float = 3.0  # frames analysed per second (Talking-UB samples train frames at 3 fps)
    max_side: int = 640  # analysis frames are decoded at most this long side (pixels)
    min_face_score: float = 0.5  # face detections below this confidence are ignored
    min_face_px: int = 16  # faces smaller than this (height at analysis size) are ignored
    bg_split_step: float = 25.0  # a background step above this splits a shot (a missed cut)
    pose_every: int = 3  # run the pose model on every Nth analysed frame, reuse it in between


@dataclasses.dataclass(frozen=True)
class FilterConfig:
    face_ratio_min: float = 1 / 3  # Talking-UB: face height >= 1/3 of upper-body height
    face_ratio_max: float = 2 / 3  # ... and <= 2/3
    # upper body in view: torso shown below the shoulder line, in face heights (calibrated on
    # the peer clips: head-only and head-and-shoulders <= 0.30, chest-up >= 0.55; README)
    min_torso: float = 0.4
    max_upscale: float = 1.0  # crop side (source px) must be >= output_size / max_upscale
    min_sharpness: float = 20.0  # variance of the Laplacian on the 128-px face crop
    min_seconds: float = 2.0  # shortest kept sequence
    bg_max_step: float = 10.0  # mean |diff| (0-255) of background between analysed frames
    bg_max_drift: float = 14.0  # mean |diff| of background, first vs any frame of a sequence
    max_people: int = 1  # frames showing more faces or person regions than this fail
    # a sequence where this share of analysed frames shows several people is multiple_people
    # as a whole (a video grid: most cells' faces are too small to be found on every frame)
    multi_person_share: float = 0.15
    max_gap: int = 2  # analysed frames of a face-detection miss bridged inside a clip
    max_face_overhang: float = 0.25  # share of the PTUS face box allowed outside the crop


@dataclasses.dataclass(frozen=True)
class CropConfig:
    output_size: int = 256  # Talking-UB crops are 256x256
    margin: float = 0.08  # extra space around the upper body, as a share of its height
    face_scale: float = 1.6  # face crop side = this * face height (square, for PTUS's face branch)
    crf: int = 18  # libx264 quality of the 256x256 clips
    preset: str = "veryfast"  # libx264 speed preset (crf sets the quality)
    encode_threads: int = 1  # fixed so the encoded bytes are reproducible


@dataclasses.dataclass(frozen=True)
class SplitConfig:
    seed: int = 0
    test_fraction: float = 33 / 213  # Talking-UB: 33 of 213 videos are test
    train_fps: float = 3.0  # training frames sampled at 3 fps
    test_frames: int = 100  # test: the first 100 kept frames of each test video
    dedup_hamming: int = 10  # perceptual-hash distance (of 64 bits) for a duplicate frame


# `output.export` takes a layout or the name of the training code that reads it. MRAA's and
# TPSMM's `FramesDataset` apply FOMM's rules unchanged (read in articulated-animation's and
# Thin-Plate-Spline-Motion-Model's `frames_dataset.py`); LIA's `Vox256` / `Taichi` / `TED`
# datasets list `<root>/{train,test}/` and read each entry as a folder of frames,
# `sorted(glob(<entry>/*.png))`, two random ones per training item (wyhsirius/LIA `dataset.py`
# at commit 2a5bbfa2): the png layout, and every kept training clip has at least
# `filter.min_seconds` x `split.train_fps` frames (6 with the recipe), more than the 2 it draws.
EXPORT_PRESETS = {"fomm": "fomm", "mraa": "fomm", "tpsmm": "fomm", "png": "png", "lia": "png"}


@dataclasses.dataclass(frozen=True)
class OutputConfig:
    shard_max_clips: int = 64  # clips per WebDataset tar shard
    contact_sheets: bool = True
    # folder layouts to export: fomm | png, or a training code's name (EXPORT_PRESETS)
    export: tuple[str, ...] = ("fomm",)
    # export every frame of a kept clip, not only the protocol's sampled frames (README)
    export_all_frames: bool = False

    def __post_init__(self) -> None:
        unknown = [name for name in self.export if name not in EXPORT_PRESETS]
        if unknown:
            raise ConfigError(
                f"output.export: unknown layout {unknown[0]!r} (known: "
                f"{', '.join(EXPORT_PRESETS)}; mraa and tpsmm read the fomm layout, lia png)"
            )


@dataclasses.dataclass(frozen=True)
class BuildConfig:
    shots: ShotConfig = ShotConfig()
    analysis: AnalysisConfig = AnalysisConfig()
    filters: FilterConfig = FilterConfig()
    crop: CropConfig = CropConfig()
    split: SplitConfig = SplitConfig()
    output: OutputConfig = OutputConfig()
    max_duration: float = 3 * 3600.0  # longer sources are refused (reason too_long)
    # larger frames are refused before decoding (reason too_large_frame): two 4K frames' worth
    max_pixels: int = 4096 * 2160 * 2
    decode_timeout: float = 1800.0  # seconds allowed to analyse one video

    def analysis_key(self) -> str:
        """Hash of everything that changes the raw measurements of a video."""
        return config_hash(
            dataclasses.replace(
                self,
                filters=FilterConfig(),
                split=SplitConfig(),
                output=OutputConfig(),
                crop=CropConfig(),
            )
        )

    def as_record(self) -> dict[str, object]:
        return to_dict(self)


def default_recipe() -> Path:
    """The Talking-UB protocol recipe shipped in the package (`talkingub/presets/recipes/`)."""
    return preset_path("recipes", "talking-ub")
