"""TensorBoard event files: what the writer puts there is what the reader gets back, a resumed
run hides what was logged after its checkpoint, and a damaged file is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from talkingub.bench.events import EVENTS_GLOB, EventFileError, open_writer, read_scalars


def _log(folder: Path, steps: range, purge_step: int | None = None, offset: float = 0.0) -> None:
    writer = open_writer(folder, purge_step)
    for step in steps:
        writer.add_scalar("generator/total", step + offset, step)
        writer.add_scalar("lr/generator", 0.5 * step, step)
    writer.close()


def test_scalars_written_are_read_back_per_tag_and_step(tmp_path: Path) -> None:
    _log(tmp_path, range(1, 5))
    assert read_scalars(tmp_path) == {
        "generator/total": {1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0},
        "lr/generator": {1: 0.5, 2: 1.0, 3: 1.5, 4: 2.0},
    }


def test_resume_purges_events_after_the_checkpoint(tmp_path: Path) -> None:
    _log(tmp_path, range(1, 7))  # killed after logging step 6, checkpoint at step 4
    _log(tmp_path, range(5, 9), purge_step=5, offset=100.0)
    assert len(list(tmp_path.glob(EVENTS_GLOB))) == 2
    totals = read_scalars(tmp_path)["generator/total"]
    assert totals == {1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0, 5: 105.0, 6: 106.0, 7: 107.0, 8: 108.0}


def test_a_fresh_run_starts_from_an_empty_folder(tmp_path: Path) -> None:
    _log(tmp_path, range(1, 7))
    _log(tmp_path, range(1, 3), offset=10.0)
    assert read_scalars(tmp_path)["generator/total"] == {1: 11.0, 2: 12.0}


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_event_file_is_refused(tmp_path: Path, damage: str) -> None:
    _log(tmp_path, range(1, 4))
    (path,) = tmp_path.glob(EVENTS_GLOB)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:-3]
    else:
        data[-8] ^= 0xFF  # a byte of the last record's payload
    path.write_bytes(bytes(data))
    with pytest.raises(EventFileError):
        read_scalars(tmp_path)
