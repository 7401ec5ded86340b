"""The process executor survives its workers: a worker that dies, hangs or raises costs only
its own item, which comes back as a TaskLost with the reason; every item is yielded once."""

from __future__ import annotations

import os
import signal
import time

from talkingub.build.executors import ProcessExecutor, SerialExecutor, TaskLost


def misbehave(item: int) -> int:
    """Runs in a spawned worker (so it lives at module level, importable by name)."""
    if item == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    if item == 2:
        time.sleep(600)
    if item == 3:
        raise ValueError("bad item")
    return item * 10


def test_process_executor_isolates_crash_hang_and_error() -> None:
    results = dict(ProcessExecutor(workers=2, timeout=2.0).map_unordered(misbehave, list(range(7))))
    assert sorted(results) == list(range(7))
    assert {k: v for k, v in results.items() if not isinstance(v, TaskLost)} == {
        0: 0,
        4: 40,
        5: 50,
        6: 60,
    }
    crashed, hung, raised = results[1], results[2], results[3]
    assert crashed.reason == "worker_crashed" and "SIGKILL" in crashed.detail
    assert hung.reason == "timeout" and "2 s" in hung.detail
    assert raised.reason == "error" and raised.detail == "ValueError: bad item"


def test_serial_executor_accepts_the_shared_options() -> None:
    executor = SerialExecutor(2, timeout=5.0)
    assert list(executor.map_unordered(abs, [-1, 2])) == [(-1, 1), (2, 2)]
