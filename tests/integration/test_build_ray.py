"""The Ray executor (a real local Ray instance, 2 CPUs) gives the process executor's build."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import assert_same_build, build_small

pytestmark = pytest.mark.slow


@pytest.fixture()
def local_ray() -> Iterator[None]:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def test_ray_build_equals_process_build(
    local_ray: None, small_manifest: Path, small_build: Path, tmp_path: Path
) -> None:
    out = build_small(small_manifest, tmp_path / "ray-out", executor="ray")
    assert_same_build(out, small_build)
