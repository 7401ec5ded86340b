"""Executors behind one interface: run a function over work items, yielding results as they
finish. `serial` (in process), `process` (a local spawn-based process pool)."""

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


EXECUTORS: Registry[Callable[[int], Executor]] = Registry("executor")


@EXECUTORS.register("serial", description="one item after another in this process")
class SerialExecutor:
    def __init__(self, workers: int = 1) -> None:
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
