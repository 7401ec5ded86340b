"""`talkingub metrics` shows progress: `evaluate_folders` tells its listener the frames scored
in each item against the frames expected there, and the CLI draws them as bars."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from talkingub.cli import main
from talkingub.metrics import evaluate_folders
from talkingub.progress import ItemBars
from tests.unit.metrics.fakes import smooth_frames, write_frame_folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("progress")
    for seed, (name, count) in enumerate({"a": 7, "b": 3}.items()):
        write_frame_folder(root / "pred" / name, smooth_frames(seed, count))
        write_frame_folder(root / "gt" / name, smooth_frames(seed + 10, count))
    return root


def test_the_listener_is_told_frames_against_the_expected_count(folders: Path) -> None:
    told: list[tuple[int, int, str, int, int | None]] = []
    evaluate_folders(
        folders / "pred",
        folders / "gt",
        metrics=("l1",),
        size=None,
        batch=3,
        stride=2,
        progress=lambda *args: told.append(args),
    )
    assert told == [
        (0, 2, "a", 0, 4),
        (0, 2, "a", 3, 4),
        (0, 2, "a", 4, 4),
        (1, 2, "b", 0, 2),
        (1, 2, "b", 2, 2),
    ]


def test_item_bars_count_finished_items_and_the_current_one() -> None:
    bars = ItemBars("metrics", enabled=False)
    bars.item(0, 2, "a", 2, 4)
    items, current = bars.progress.tasks
    assert (items.completed, items.total) == (0.5, 2)
    assert current.description.strip() == "a" and (current.completed, current.total) == (2, 4)
    bars.item(1, 2, "b", 0, None)
    assert items.completed == 1 and current.description.strip() == "b"
    bars.finish()
    assert [t.completed for t in bars.progress.tasks] == [2]


def test_the_metrics_command_draws_its_bars_on_stderr(folders: Path) -> None:
    args = ["metrics", str(folders / "pred"), str(folders / "gt"), "-m", "l1", "--size", "0"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "metrics" in result.stderr and "2/2 items" in result.stderr
    assert "l1" in result.stdout and "items" not in result.stdout
