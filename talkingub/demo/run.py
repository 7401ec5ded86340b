"""The embedded demo behind README command 1: sample media -> fetch (-> build -> bench)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from talkingub.demo.sample import write_sample
from talkingub.fetch import FetchConfig, FetchSummary
from talkingub.fetch import run as run_fetch
from talkingub.paths import cache_dir

SAMPLE_VERSION = "v1"  # bump when the sample generator changes


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    out_dir: Path
    workers: int = 2
    progress: bool = True


@dataclasses.dataclass(frozen=True)
class DemoResult:
    manifest: Path
    fetch: FetchSummary


def sample_dir() -> Path:
    return cache_dir() / f"sample-{SAMPLE_VERSION}"


def run_demo(config: DemoConfig) -> DemoResult:
    manifest = write_sample(sample_dir())
    fetch = run_fetch(
        FetchConfig(
            manifest=manifest,
            out_dir=config.out_dir,
            workers=config.workers,
            progress=config.progress,
        )
    )
    return DemoResult(manifest, fetch)
