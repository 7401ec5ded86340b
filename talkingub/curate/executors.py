"""Executors behind one interface: run a function over work items, yielding results as they
finish. `serial` (in process), `process` (local spawned worker processes), `ray` (Ray tasks
on a local instance or a cluster). A work item is one video: its outputs (analysis, clips)
are written atomically under `work/<video_id>/`, so a re-run skips finished items.

Isolation: with `process` and `ray` an item whose worker dies (a segfault in a native
decoder or detector, an OOM kill) or runs past `timeout` seconds is yielded as a `TaskLost`
(`worker_crashed` / `timeout`) instead of a result; the dead or overrunning worker is killed
and replaced, and the other items go on. `serial` has neither protection (debugging only).

Stopping: an `EnvironmentStop` raised by `fn` (the disk is full, OUT is read-only, ...: see
talkingub.errors) is no item's failure. Every executor re-raises it in the parent from
`map_unordered`, after which no item is started; closing the iterator (or the re-raise
itself) kills the `process` workers still busy and cancels the pending Ray tasks.

Progress: while `fn` runs, `emit(message)` sends a message to the parent's `on_event`
callback (the build's per-video stage events): `serial` calls it directly, `process` sends it
over the worker's pipe, where the parent reads it while it waits for results; with `ray`, and
without an `on_event`, `emit` does nothing (Ray reports only finished items).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from talkingub.errors import EnvironmentStop
from talkingub.registry import Registry

WORKER_CRASHED = "worker_crashed"
TIMEOUT = "timeout"
OnEvent = Callable[[Any], None]
_emitter: list[OnEvent] = []  # set while this process runs an item for a listening parent


def emit(message: Any) -> None:
    """Send `message` to the parent's `on_event` (nothing when nobody listens)."""
    if _emitter:
        _emitter[0](message)


@contextlib.contextmanager
def _emitting(on_event: OnEvent | None) -> Iterator[None]:
    if on_event is None:
        yield
        return
    _emitter.append(on_event)
    try:
        yield
    finally:
        _emitter.remove(on_event)


@dataclasses.dataclass(frozen=True)
class TaskLost:
    """Yielded in place of `fn`'s result when the item's worker died or ran out of time."""

    reason: str  # worker_crashed | timeout | error
    detail: str


class Executor(Protocol):
    def map_unordered(
        self, fn: Callable[[Any], Any], items: list[Any], on_event: OnEvent | None = None
    ) -> Iterator[tuple[Any, Any]]:
        """Yield (item, result or TaskLost) pairs; `fn` must catch its own errors, except an
        `EnvironmentStop`, which is re-raised here and ends the iteration. What `fn` passes
        to `emit` reaches `on_event` in this process (see the module doc)."""
        ...


EXECUTORS: Registry[Callable[..., Executor]] = Registry("executor")


@EXECUTORS.register("serial", description="one item after another in this process")
class SerialExecutor:
    """No isolation and no hard time limit: a crash or a hang stops the build."""

    def __init__(self, workers: int = 1, **_: Any) -> None:
        self.workers = 1

    def map_unordered(
        self, fn: Callable[[Any], Any], items: list[Any], on_event: OnEvent | None = None
    ) -> Iterator[tuple[Any, Any]]:
        for item in items:
            with _emitting(on_event):
                result = fn(item)
            yield item, result


def _exit_text(code: int | None) -> str:
    """How a worker process ended, in words."""
    if code is None or code >= 0:
        return f"exit code {code}"
    number = -code
    name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
    return f"killed by {name}" + (" (e.g. out of memory)" if number == signal.SIGKILL else "")


def _worker_main(fn: Callable[[Any], Any], conn: Any, listened: bool = False) -> None:
    """Worker loop: receive an item, announce the start, send the result; None stops. With
    `listened`, what `fn` emits goes to the parent as ("event", message)."""
    if listened:
        _emitter.append(lambda message: conn.send(("event", message)))
    while True:
        try:
            item = conn.recv()
        except EOFError:
            return
        if item is None:
            return
        conn.send(("start", None))
        try:
            conn.send(("done", fn(item)))
        except EnvironmentStop as exc:  # not the item's failure: the parent stops the run
            conn.send(("stop", exc))
        except Exception as exc:  # fn raised, or its result cannot be pickled
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class _Worker:
    """One spawned worker process, its pipe, and the item it is working on."""

    def __init__(
        self, context: Any, fn: Callable[[Any], Any], on_event: OnEvent | None = None
    ) -> None:
        self.on_event = on_event
        self.conn, child = context.Pipe()
        listened = on_event is not None
        self.process = context.Process(target=_worker_main, args=(fn, child, listened))
        self.process.start()
        child.close()
        self.item: Any = None
        self.busy = False
        self.started: float | None = None  # when fn began on the current item

    def give(self, item: Any) -> None:
        self.item, self.busy, self.started = item, True, None
        try:
            self.conn.send(item)
        except OSError:  # died meanwhile: `collect` reports the item as worker_crashed
            pass

    def seconds_left(self, timeout: float) -> float | None:
        """Time left on the current item; None while it has not started."""
        if self.started is None:
            return None
        return max(0.0, timeout - (time.monotonic() - self.started))

    def collect(self, timeout: float | None) -> tuple[Any, Any] | None:
        """The finished (item, result or TaskLost), or None while the item is still running.
        A worker past `timeout` is killed here."""
        if not self.busy:
            return None
        result = self._read()
        if result is None and not self.process.is_alive():
            code = _exit_text(self.process.exitcode)
            result = TaskLost(WORKER_CRASHED, f"worker process died: {code}")
        if result is None and timeout and self.seconds_left(timeout) == 0.0:
            self.process.kill()
            self.process.join()
            result = TaskLost(TIMEOUT, f"still running after {timeout:g} s")
        if result is None:
            return None
        self.busy = False
        return self.item, result

    def _read(self) -> Any:
        while self.conn.poll():
            try:
                kind, payload = self.conn.recv()
            except (EOFError, OSError):  # the process died; its exit code tells how
                return None
            if kind == "start":
                self.started = time.monotonic()
                continue
            if kind == "event":
                if self.on_event is not None:
                    self.on_event(payload)
                continue
            if kind == "stop":
                self.busy = False  # finished its item; `stop` may end it gently
                raise payload
            return payload if kind == "done" else TaskLost("error", payload)
        return None

    def stop(self) -> None:
        if self.process.is_alive() and not self.busy:
            try:
                self.conn.send(None)
                self.process.join(timeout=5)
            except OSError:
                pass
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


def _wait_any(pool: list[_Worker], timeout: float | None) -> None:
    """Block until a busy worker sends something, dies, or may have run out of time."""
    from multiprocessing.connection import wait

    busy = [w for w in pool if w.busy]
    left = [t for w in busy if timeout and (t := w.seconds_left(timeout)) is not None]
    wait([w.conn for w in busy] + [w.process.sentinel for w in busy], min(left, default=None))


def _dispatch(
    pool: list[_Worker], queue: collections.deque[Any], spawn: Callable[[], _Worker]
) -> None:
    """Give queued items to idle workers; a dead worker is replaced by a fresh one first."""
    for index, worker in enumerate(pool):
        if not queue:
            return
        if worker.busy:
            continue
        if not worker.process.is_alive():
            worker.stop()
            pool[index] = worker = spawn()
        worker.give(queue.popleft())


@EXECUTORS.register("process", description="local worker processes (spawned, isolated)")
class ProcessExecutor:
    """`workers` spawned processes, one item each at a time. A worker that dies, or runs
    past `timeout` seconds on one item (counted from when the item starts), is killed and
    replaced; its item is yielded as a TaskLost."""

    def __init__(self, workers: int = 2, timeout: float | None = None, **_: Any) -> None:
        self.workers = max(1, workers)
        self.timeout = timeout or None

    def map_unordered(
        self, fn: Callable[[Any], Any], items: list[Any], on_event: OnEvent | None = None
    ) -> Iterator[tuple[Any, Any]]:
        import multiprocessing

        if not items:
            return
        context = multiprocessing.get_context("spawn")
        queue = collections.deque(items)

        def spawn() -> _Worker:
            return _Worker(context, fn, on_event)

        pool = [spawn() for _ in range(min(self.workers, len(items)))]
        try:
            while queue or any(w.busy for w in pool):
                _dispatch(pool, queue, spawn)
                _wait_any(pool, self.timeout)
                for worker in pool:
                    finished = worker.collect(self.timeout)
                    if finished is None:
                        continue
                    yield finished
        finally:
            for worker in pool:
                worker.stop()


def _ray_check() -> str | None:
    try:
        import ray  # noqa: F401
    except ImportError:
        return "needs Ray: pip install 'talkingub[ray]'"
    return None


@EXECUTORS.register("ray", check=_ray_check, description="Ray tasks (local or a cluster)")
class RayExecutor:
    """One Ray task per work item; `address` = "auto" or "HOST:PORT" joins a running cluster,
    None starts (or reuses) a local instance. Workers need only this package installed.

    Tasks are not retried (`max_retries=0`): a task whose worker dies is yielded as a
    TaskLost. At most one task per cluster CPU is in flight, so a task's clock starts when it
    is submitted; one running past `timeout` is force-cancelled (its worker is killed)."""

    def __init__(
        self, workers: int = 2, address: str | None = None, timeout: float | None = None
    ) -> None:
        self.workers = max(1, workers)
        self.address = address
        self.timeout = timeout or None

    def map_unordered(
        self, fn: Callable[[Any], Any], items: list[Any], on_event: OnEvent | None = None
    ) -> Iterator[tuple[Any, Any]]:
        """`on_event` is not called: Ray tasks report only when they finish."""
        import ray

        if not ray.is_initialized():
            ray.init(
                address=self.address,
                num_cpus=None if self.address else self.workers,
                include_dashboard=False,
                log_to_driver=False,
            )
        remote = ray.remote(num_cpus=1, max_retries=0)(fn)
        slots = max(1, int(ray.cluster_resources().get("CPU", self.workers)))
        queue = collections.deque(items)
        pending: dict[Any, tuple[Any, float]] = {}
        try:
            while queue or pending:
                while queue and len(pending) < slots:
                    item = queue.popleft()
                    pending[remote.remote(item)] = (item, time.monotonic())
                timeout = self._next_deadline(pending)
                done, _ = ray.wait(list(pending), num_returns=1, timeout=timeout)
                for ref in done:
                    yield pending.pop(ref)[0], _ray_result(ray, ref)
                yield from self._cancel_overdue(ray, pending)
        finally:  # stopped early (EnvironmentStop, the caller closed us): drop what is left
            for ref in pending:
                ray.cancel(ref, force=True)

    def _next_deadline(self, pending: dict[Any, tuple[Any, float]]) -> float | None:
        if not self.timeout:
            return None
        oldest = min(started for _, started in pending.values())
        return max(0.0, self.timeout - (time.monotonic() - oldest))

    def _cancel_overdue(
        self, ray: Any, pending: dict[Any, tuple[Any, float]]
    ) -> Iterator[tuple[Any, TaskLost]]:
        if not self.timeout:
            return
        now = time.monotonic()
        for ref in [r for r, (_, t) in pending.items() if now - t > self.timeout]:
            ray.cancel(ref, force=True)
            item, _ = pending.pop(ref)
            yield item, TaskLost(TIMEOUT, f"still running after {self.timeout:g} s")


def _ray_result(ray: Any, ref: Any) -> Any:
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:  # fn itself raised
        cause = getattr(exc, "cause", None) or exc
        if isinstance(cause, EnvironmentStop):
            raise cause from None
        return TaskLost("error", f"{type(cause).__name__}: {cause}".splitlines()[0])
    except ray.exceptions.RayError as exc:  # the worker or its node died, OOM kill, ...
        return TaskLost(WORKER_CRASHED, f"Ray task lost: {type(exc).__name__}")
