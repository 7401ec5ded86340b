"""Executors behind one interface: run a function over work items, yielding results as they
finish. `serial` (in process), `process` (a local spawn-based process pool), `ray` (Ray
tasks on a local instance or a cluster). A work item is one video: its outputs (analysis,
clips) are written atomically under `work/<video_id>/`, so a re-run skips finished items."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from talkingub.registry import Registry


class Executor(Protocol):
    def map_unordered(
        self, fn: Callable[[Any], Any], items: list[Any]
    ) -> Iterator[tuple[Any, Any]]:
        """Yield (item, result) pairs; `fn` must catch its own errors."""
        ...


EXECUTORS: Registry[Callable[..., Executor]] = Registry("executor")


@EXECUTORS.register("serial", description="one item after another in this process")
class SerialExecutor:
    def __init__(self, workers: int = 1, **_: Any) -> None:
        self.workers = 1

    def map_unordered(
        self, fn: Callable[[Any], Any], items: list[Any]
    ) -> Iterator[tuple[Any, Any]]:
        for item in items:
            yield item, fn(item)


@EXECUTORS.register("process", description="local process pool (spawned workers)")
class ProcessExecutor:
    def __init__(self, workers: int = 2) -> None:
        self.workers = max(1, workers)

    def map_unordered(
        self, fn: Callable[[Any], Any], items: list[Any]
    ) -> Iterator[tuple[Any, Any]]:
        if self.workers == 1 or len(items) <= 1:
            yield from SerialExecutor().map_unordered(fn, items)
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=min(self.workers, len(items)), mp_context=context
        ) as pool:
            pending: dict[Future[Any], Any] = {pool.submit(fn, item): item for item in items}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield pending.pop(future), future.result()


def _ray_check() -> str | None:
    try:
        import ray  # noqa: F401
    except ImportError:
        return "needs Ray: pip install 'ray==2.60.0'"
    return None


@EXECUTORS.register("ray", check=_ray_check, description="Ray tasks (local or a cluster)")
class RayExecutor:
    """One Ray task per work item; `address` = "auto" or "HOST:PORT" joins a running cluster,
    None starts (or reuses) a local instance. Workers need only this package installed."""

    def __init__(self, workers: int = 2, address: str | None = None) -> None:
        self.workers = max(1, workers)
        self.address = address

    def map_unordered(
        self, fn: Callable[[Any], Any], items: list[Any]
    ) -> Iterator[tuple[Any, Any]]:
        import ray

        if not ray.is_initialized():
            ray.init(
                address=self.address,
                num_cpus=None if self.address else self.workers,
                include_dashboard=False,
                log_to_driver=False,
            )
        remote = ray.remote(num_cpus=1)(fn)
        pending = {remote.remote(item): item for item in items}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                yield pending.pop(ref), ray.get(ref)
