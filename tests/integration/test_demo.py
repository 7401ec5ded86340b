"""README command 1 (`make demo` -> `talkingub demo`): the embedded sample media and the
fetch + build flow on it. The tiny bench that follows the build is covered by
test_bench_e2e.py on real clips; here the demo's own inputs and build are checked."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from talkingub.demo.manifest import sample_manifest_text
from talkingub.demo.run import DemoConfig, DemoResult, run_demo
from talkingub.demo.sample import SAMPLE_CLIPS, write_clip

REPO = Path(__file__).resolve().parents[2]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DemoResult]]:
    """The demo with its cache in a temporary home (module fixtures run before the
    function-scoped home isolation, so it is set here explicitly)."""
    root = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TALKINGUB_HOME", str(root / "home"))
        config = DemoConfig(out_dir=root / "out", workers=2, progress=False, bench_steps=0)
        result = run_demo(config)
        yield root / "out", result


def test_released_sample_manifest_matches_the_generator() -> None:
    released = (REPO / "manifests" / "sample.csv").read_text()
    assert released == sample_manifest_text(prefix="sample/")
    sums = (REPO / "manifests" / "SHA256SUMS").read_text().split()
    assert sums[sums.index("sample.csv") - 1] == _sha(REPO / "manifests" / "sample.csv")


def test_sample_videos_are_generated_deterministically(
    demo_build: tuple[Path, DemoResult], tmp_path: Path
) -> None:
    clip = SAMPLE_CLIPS[-1]  # the shortest clip keeps this cheap
    _, result = demo_build
    again = write_clip(clip, tmp_path)
    assert _sha(again) == _sha(result.manifest.parent / f"{clip.video_id}.mp4")


def test_demo_builds_every_sample_row_and_keeps_clips(demo_build: tuple[Path, DemoResult]) -> None:
    out, result = demo_build
    videos = pd.read_parquet(out / "videos.parquet")
    assert sorted(videos["video_id"]) == sorted(c.video_id for c in SAMPLE_CLIPS)
    assert set(videos["fetch_status"]) == {"ok"}
    clips = pd.read_parquet(out / "clips.parquet")
    kept = clips[clips["status"] == "kept"]
    assert len(kept) >= 3, clips[["video_id", "status", "reason"]]
    assert set(kept["split"]) == {"train", "test"}
    assert (out / "funnel.md").is_file() and (out / "funnel.png").is_file()
    assert list((out / "shards").glob("*.tar"))
    assert result.table is None  # bench_steps=0: no bench run
