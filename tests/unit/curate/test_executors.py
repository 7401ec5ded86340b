"""The process executor survives its workers: a worker that dies, hangs or raises costs only
its own item, which comes back as a TaskLost with the reason; every item is yielded once.
An `EnvironmentStop` (a full disk) is no item's failure: it stops the whole map."""

from __future__ import annotations

import errno
import multiprocessing
import os
import signal
import time

import pytest

from talkingub.curate.executors import ProcessExecutor, SerialExecutor, TaskLost
from talkingub.errors import EnvironmentStop


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


def fill_disk(item: int) -> int:
    """Item 0 finds the disk full; the others take a while (spawned worker: module level)."""
    if item == 0:
        raise EnvironmentStop(f"/out/work/{item}", errno.ENOSPC)
    time.sleep(1.0)
    return item


@pytest.mark.parametrize("executor", [SerialExecutor(), ProcessExecutor(workers=2)])
def test_environment_stop_ends_the_map_in_the_parent(
    executor: SerialExecutor | ProcessExecutor,
) -> None:
    seen = []
    with pytest.raises(EnvironmentStop) as info:
        for item, result in executor.map_unordered(fill_disk, list(range(6))):
            assert not isinstance(result, TaskLost)
            seen.append(item)
    assert (info.value.path, info.value.errno) == ("/out/work/0", errno.ENOSPC)
    assert 0 not in seen and len(seen) < 5  # no item recorded for it; the rest not started
    assert multiprocessing.active_children() == []  # every worker stopped
