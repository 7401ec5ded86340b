"""Progress inside a video: the stage events a work unit emits in a worker process reach the
parent's bars while the item runs (before its result), for the process and serial executors;
without a listener nothing is sent. The videos bar moves with the stages, and every bar's ETA
is labelled."""

from __future__ import annotations

from typing import Any

import pytest
from rich.progress import Task

from talkingub.curate.executors import ProcessExecutor, SerialExecutor, emit
from talkingub.curate.progress import BuildProgress
from talkingub.curate.stages import STAGES, StageEvent, StageReporter
from talkingub.progress import CountColumn, EtaColumn, clock


def fake_unit(video_id: str) -> str:
    """A work unit going through every stage, 4 frames each (module level: spawned workers
    import it by name)."""
    report = StageReporter(video_id, emit, interval=0.0)
    for stage in STAGES:
        tick = report.stage(stage, 4)
        for done in range(1, 5):
            tick(done)
    return video_id.upper()


def run_units(executor: Any, listen: bool) -> list[tuple[str, Any]]:
    """What the parent saw, in order: ("event", StageEvent) and ("result", item)."""
    seen: list[tuple[str, Any]] = []
    on_event = (lambda e: seen.append(("event", e))) if listen else None
    for item, result in executor.map_unordered(fake_unit, ["a", "b", "c"], on_event=on_event):
        assert result == item.upper()
        seen.append(("result", item))
    return seen


@pytest.mark.parametrize("executor", [ProcessExecutor(workers=2), SerialExecutor()])
def test_stage_events_reach_the_parent_before_the_result(executor: Any) -> None:
    seen = run_units(executor, listen=True)
    for video in "abc":
        events = [e for kind, e in seen if kind == "event" and e.video_id == video]
        assert [(e.stage, e.done) for e in events] == [(s, d) for s in STAGES for d in range(5)]
        assert all(e.total == 4 for e in events)
        last_event = max(
            i for i, (kind, e) in enumerate(seen) if kind == "event" and e.video_id == video
        )
        assert seen.index(("result", video)) > last_event


def test_without_a_listener_nothing_is_sent() -> None:
    seen = run_units(ProcessExecutor(workers=2), listen=False)
    assert sorted(seen) == [("result", "a"), ("result", "b"), ("result", "c")]


def test_the_videos_bar_moves_with_the_stages_of_running_videos() -> None:
    bars = BuildProgress(total=3, enabled=False)
    videos = bars.progress.tasks[0]
    first: list[float] = []
    for item, _ in ProcessExecutor(workers=2).map_unordered(
        fake_unit, ["a", "b", "c"], on_event=bars.stage
    ):
        first.append(videos.completed)  # before this video is counted as done
        bars.video_done(item, None)
    assert first[0] >= 0.99  # the first video's stages alone moved the bar to about 1
    assert videos.completed == 3 and len(bars.progress.tasks) == 1  # per-video bars removed


def test_a_video_bar_names_its_stage_and_restarts_its_count() -> None:
    bars = BuildProgress(total=2, enabled=False)
    bars.stage(StageEvent("clip-1", "decode", 50, 100))
    video = bars.progress.tasks[1]
    assert video.description.split() == ["clip-1", "decode"] and video.completed == 50
    assert bars.progress.tasks[0].completed == pytest.approx(0.1)  # half of decode's 0.2
    bars.stage(StageEvent("clip-1", "analysis", 3, 30))
    assert video.description.split() == ["clip-1", "analysis"]
    assert (video.completed, video.total) == (3, 30)
    assert bars.progress.tasks[0].completed == pytest.approx(0.2 + 0.6 * 0.1)


def task(completed: float, total: float | None, unit: str = "") -> Task:
    return Task(0, "t", total, completed, _get_time=lambda: 0.0, fields={"unit": unit})


def test_eta_and_count_columns_are_labelled() -> None:
    assert EtaColumn().render(task(0, 10)).plain == "eta -"
    assert EtaColumn().render(task(10, 10)).plain == "done"
    assert EtaColumn().render(task(0, None)).plain == ""
    assert CountColumn().render(task(2.7, 6, "videos")).plain == "2/6 videos"
    assert (clock(12), clock(725), clock(3723)) == ("0:12", "12:05", "1:02:03")
