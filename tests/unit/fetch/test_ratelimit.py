from __future__ import annotations

import itertools
import threading
from pathlib import Path

from talkingub.fetch.ratelimit import SharedRateLimiter


def test_slots_are_spaced_by_the_interval_across_instances(tmp_path: Path) -> None:
    state = tmp_path / "rl"
    limiters = [SharedRateLimiter(state, per_minute=600) for _ in range(4)]  # 0.1 s apart
    delays: list[float] = []
    lock = threading.Lock()

    def reserve(limiter: SharedRateLimiter) -> None:
        delay = limiter._reserve()
        with lock:
            delays.append(delay)

    threads = [threading.Thread(target=reserve, args=(lim,)) for lim in limiters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    delays.sort()
    gaps = [b - a for a, b in itertools.pairwise(delays)]
    assert all(gap > 0.09 for gap in gaps), delays


def test_zero_means_unlimited(tmp_path: Path) -> None:
    assert SharedRateLimiter(tmp_path / "rl", per_minute=0).wait() == 0.0
