"""The Ray executor (a real local Ray instance, 2 CPUs) gives the process executor's build,
and a Ray task that dies or hangs fails only its own row."""

from __future__ import annotations

import errno
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from talkingub.curate import BuildRun, run
from talkingub.curate.executors import RayExecutor, TaskLost
from talkingub.errors import EnvironmentStop
from talkingub.fetch import FetchConfig
from talkingub.io.faults import VIDEO_ENV
from tests.integration.conftest import assert_same_build, build_small
from tests.support import hostile

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local instance for the module; its workers see the fault hooks, which only the
    `crasher` and `hanger` rows trigger."""
    import ray

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {VIDEO_ENV: hostile.FAULTS}},
    )
    try:
        yield
    finally:
        ray.shutdown()


def test_ray_build_equals_process_build(
    local_ray: None, small_manifest: Path, small_build: Path, tmp_path: Path
) -> None:
    out = build_small(small_manifest, tmp_path / "ray-out", executor="ray")
    assert_same_build(out, small_build)


def test_ray_task_that_dies_or_hangs_fails_only_its_row(
    local_ray: None,
    small_manifest: Path,
    small_build: Path,
    presenter_chest_up_mp4: Path,
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    hostile.seed(small_build, out, ("fetch.parquet", "fetch", "raw", "work"))
    manifest = hostile.faulty_manifest(small_manifest, presenter_chest_up_mp4, tmp_path)
    fetch = FetchConfig(manifest=manifest, out_dir=out, progress=False)
    build = BuildRun(out_dir=out, fetch=fetch, executor="ray", progress=False, video_timeout=10.0)
    run(build)
    hostile.assert_faults_isolated(out, small_build)


def fill_disk(item: int) -> int:
    """Item 0 finds the disk full (a Ray task: module level, importable by name)."""
    if item == 0:
        raise EnvironmentStop(f"/out/work/{item}", errno.ENOSPC)
    time.sleep(1.0)
    return item


def test_ray_task_environment_stop_ends_the_map(local_ray: None) -> None:
    """Not a row's failure: the stop reaches the parent and the pending tasks are dropped."""
    seen = []
    with pytest.raises(EnvironmentStop) as info:
        for item, result in RayExecutor(workers=2).map_unordered(fill_disk, list(range(6))):
            assert not isinstance(result, TaskLost)
            seen.append(item)
    assert (info.value.path, info.value.errno) == ("/out/work/0", errno.ENOSPC)
    assert 0 not in seen and len(seen) < 5
