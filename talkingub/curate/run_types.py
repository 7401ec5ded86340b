"""What a `talkingub build` run is given and what it gives back, as plain data.

`BuildRun` (the settings of one run), `BuildSummary` (what it returns), and the per-video
results that flow from the workers to the dataset-level assembly (`Analysis`, `VideoResult`,
`VideoOutcome`). The runner, the work unit and the output stages all import these types from
here; none of them has to import the module of another stage to name what it receives.
`BuildRun`'s field defaults are the only copy: `talkingub build`'s flags default to None and
show these values in `--help`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from talkingub.curate.config import BuildConfig
from talkingub.curate.filters import ClipPlan
from talkingub.curate.types import Sequence
from talkingub.fetch.config import FetchConfig


@dataclasses.dataclass(frozen=True)
class BuildRun:
    out_dir: Path
    recipe: BuildConfig = dataclasses.field(default_factory=BuildConfig)
    fetch: FetchConfig | None = None  # None: reuse OUT/fetch.parquet from an earlier pass
    stages: tuple[str, ...] = ("fetch", "process")
    executor: str = "process"
    workers: int = 2
    progress: bool = True
    analysis_must_exist: bool = False  # refilter: never run detection
    ray_address: str | None = None  # executor "ray": "auto", "HOST:PORT", or None (local)
    # hard wall-clock limit per video (analysis + encode), enforced by the process and ray
    # executors by killing the worker (reason `timeout`); None or 0: no limit
    video_timeout: float | None = 7200.0
    # adopt a non-empty OUT that talkingub did not make (its files are never deleted)
    force: bool = False
    wait: bool = False  # OUT locked by another run: wait for it instead of failing at once
    # False: third-party log noise (MediaPipe/TFLite native warnings, protobuf, logging) goes
    # to OUT/logs/build.log (refilter.log), not the terminal; True (`--verbose`): shown on the
    # terminal (Python warnings and log records are kept in the log too)
    verbose: bool = False

    def executor_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"timeout": self.video_timeout}
        if self.executor == "ray":
            options["address"] = self.ray_address
        return options


@dataclasses.dataclass(frozen=True)
class BuildSummary:
    out_dir: Path
    config_hash: str
    funnel: list[tuple[str, int]]
    outputs: dict[str, Path]
    # kept clips per manifest `license` value ("(none)" when empty), most clips first
    licences: list[tuple[str, int]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Analysis:
    """The cached raw measurements of one video (`analysis-<key>.json`, see `unit`)."""

    video_id: str
    frame_count: int
    fps: float
    width: int
    height: int
    backend: str
    backend_version: str
    sequences: list[Sequence]
    phashes: list[str]  # 64-bit difference hashes of evenly spaced frames (hex)
    thumbs: dict[int, float]  # analysed frame index -> source pixels per thumbnail pixel


@dataclasses.dataclass
class VideoResult:
    """One processed video: its analysis, every decided segment, the encoded kept clips."""

    analysis: Analysis
    plans: list[ClipPlan]
    clip_paths: dict[str, Path]


@dataclasses.dataclass
class VideoOutcome:
    row: dict[str, Any]  # the fetch.parquet row
    result: VideoResult | None = None
    reason: str | None = None
    detail: str = ""
