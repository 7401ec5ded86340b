from __future__ import annotations

from pathlib import Path

import pytest

from talkingub.io.atomic import atomic_path, atomic_write_text, remove_stale_temps


def test_success_renames_into_place(tmp_path: Path) -> None:
    target = atomic_write_text(tmp_path / "a" / "out.txt", "hello")
    assert target.read_text() == "hello"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failure_leaves_nothing_under_final_or_temp_name(tmp_path: Path) -> None:
    final = tmp_path / "out.bin"
    with pytest.raises(RuntimeError), atomic_path(final) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert not final.exists()
    assert list(tmp_path.iterdir()) == []


def test_stale_temps_are_removed(tmp_path: Path) -> None:
    (tmp_path / ".tmp-1234abcd-x.mp4").write_bytes(b"partial")
    (tmp_path / "x.mp4").write_bytes(b"done")
    assert remove_stale_temps(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["x.mp4"]
