"""Real-clip builds shared by the integration tests: a small one for the reliability tests
(process executor, 2 workers) and the bench's tiny build (`tiny_build`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from talkingub.curate import BuildConfig, BuildRun, run
from talkingub.fetch import FetchConfig
from tests.support.recipes import MECHANICS

TABLES = ("videos", "clips", "frames", "splits")


@pytest.fixture(scope="session")
def small_manifest(
    presenter_chest_up_mp4: Path,
    swalwell_mp4: Path,
    aoc_wide_mp4: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    path = tmp_path_factory.mktemp("small") / "manifest.csv"
    path.write_text(
        "video_id,url,identity\n"
        f"presenter,{presenter_chest_up_mp4},presenter\n"
        f"swalwell,{swalwell_mp4},swalwell\n"
        f"aoc,{aoc_wide_mp4},aoc\n"
    )
    return path


def peer_build(
    folder: Path, rows: list[tuple[str, Path, str]], recipe: BuildConfig, workers: int = 2
) -> Path:
    """Build `rows` (video id = identity, peer file, split) into `folder/out`."""
    manifest = folder / "manifest.csv"
    lines = ["video_id,url,identity,split"]
    lines += [f"{vid},{path},{vid},{split}" for vid, path, split in rows]
    manifest.write_text("\n".join(lines) + "\n")
    out = folder / "out"
    fetch = FetchConfig(manifest=manifest, out_dir=out, progress=False)
    run(BuildRun(out_dir=out, recipe=recipe, fetch=fetch, workers=workers, progress=False))
    return out


def build_small(
    manifest: Path, out: Path, executor: str = "process", recipe: BuildConfig | None = None
) -> Path:
    fetch = FetchConfig(manifest=manifest, out_dir=out, progress=False)
    build = BuildRun(out_dir=out, fetch=fetch, executor=executor, workers=2, progress=False)
    run(dataclasses.replace(build, recipe=recipe) if recipe else build)
    return out


@pytest.fixture(scope="session")
def small_build(small_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small(small_manifest, tmp_path_factory.mktemp("small-build") / "out")


def assert_same_build(a: Path, b: Path) -> None:
    """Same shard bytes and the same manifests (absolute source paths aside)."""
    assert (a / "SHA256SUMS").read_text() == (b / "SHA256SUMS").read_text()
    for name in TABLES:
        left = pd.read_parquet(a / f"{name}.parquet")
        right = pd.read_parquet(b / f"{name}.parquet")
        pd.testing.assert_frame_equal(left, right)


# The bench's tiny build: one training clip, two test identities (MECHANICS keeps the two
# head-and-shoulders test clips). (video id = identity, peer fixture, split)
TINY_BENCH_PEERS = (
    ("presenter", "presenter_chest_up_mp4", "train"),
    ("swalwell", "swalwell_mp4", "test"),
    ("aoc-wide", "aoc_wide_mp4", "test"),
)


def tiny_bench_build(request: pytest.FixtureRequest, folder: Path) -> Path:
    """The bench's tiny build into `folder/out` (a test that changes its build makes its own)."""
    rows = [(vid, request.getfixturevalue(fix), split) for vid, fix, split in TINY_BENCH_PEERS]
    return peer_build(folder, rows, MECHANICS)


@pytest.fixture(scope="session")
def tiny_build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bench's tiny build, built once for every test that only reads it."""
    return tiny_bench_build(request, tmp_path_factory.mktemp("bench-build"))
