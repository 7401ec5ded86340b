"""The embedded demo behind README command 1: sample media -> fetch -> build -> tiny bench."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from talkingub.bench.protocol import DEFAULT_METHODS
from talkingub.curate import BuildRun, BuildSummary
from talkingub.curate import run as run_build
from talkingub.demo.sample import write_sample_quietly
from talkingub.fetch import FetchConfig
from talkingub.paths import cache_dir

SAMPLE_VERSION = "v2"  # bump when the sample generator changes


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    out_dir: Path
    workers: int = 2
    progress: bool = True
    bench_methods: tuple[str, ...] = DEFAULT_METHODS
    bench_steps: int = 4  # tiny training steps per method (0 skips the bench)
    verbose: bool = False  # third-party log output on the terminal, not only in logs/


@dataclasses.dataclass(frozen=True)
class DemoResult:
    manifest: Path
    build: BuildSummary
    table: Path | None  # the bench leaderboard (Markdown), None with bench_steps=0


def sample_dir() -> Path:
    return cache_dir() / f"sample-{SAMPLE_VERSION}"


def run_demo(config: DemoConfig) -> DemoResult:
    manifest = write_sample_quietly(sample_dir(), config.progress, config.verbose)
    fetch = FetchConfig(
        manifest=manifest, out_dir=config.out_dir, workers=config.workers, progress=config.progress
    )
    build = BuildRun(
        out_dir=config.out_dir,
        fetch=fetch,
        workers=config.workers,
        progress=config.progress,
        verbose=config.verbose,
    )
    summary = run_build(build)
    return DemoResult(manifest, summary, _bench(config))


def _bench(config: DemoConfig) -> Path | None:
    if config.bench_steps <= 0:
        return None
    from talkingub.bench import run_tiny_bench

    result = run_tiny_bench(
        config.out_dir,
        config.out_dir / "bench",
        methods=config.bench_methods,
        steps=config.bench_steps,
        progress=config.progress,
        verbose=config.verbose,
    )
    return Path(result.table_path)
