from __future__ import annotations

from pathlib import Path

import pytest

from talkingub.io.atomic import (
    atomic_path,
    atomic_write_text,
    is_own_temp,
    remove_stale_temps,
    temp_name,
)


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


def test_only_own_temporaries_are_stale(tmp_path: Path) -> None:
    """Issue 15: a `.tmp-*` name that `temp_name` does not make is someone else's file."""
    own = tmp_path / ".tmp-0a1b2c3d-videos.parquet"
    own.write_bytes(b"partial")
    foreign = [tmp_path / ".tmp-draft.txt", tmp_path / ".tmp-thesis.tex", tmp_path / ".tmp-x-y"]
    for path in foreign:
        path.write_text("the user's")
    assert remove_stale_temps(tmp_path) == 1
    assert not own.exists() and all(p.read_text() == "the user's" for p in foreign)


def test_non_recursive_cleanup_stays_in_the_folder(tmp_path: Path) -> None:
    deep = tmp_path / "notes" / "a" / ".tmp-0a1b2c3d-x.mp4"
    deep.parent.mkdir(parents=True)
    deep.write_bytes(b"keep")
    (tmp_path / ".tmp-0a1b2c3d-x.mp4").write_bytes(b"stale")
    assert remove_stale_temps(tmp_path, recursive=False) == 1
    assert deep.read_bytes() == b"keep"


def test_cleanup_never_follows_or_removes_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / ".tmp-0a1b2c3d-x.mp4").write_bytes(b"not ours")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "linked").symlink_to(outside, target_is_directory=True)
    (folder / ".tmp-0a1b2c3d-y.mp4").symlink_to(outside / ".tmp-0a1b2c3d-x.mp4")
    assert remove_stale_temps(folder) == 0
    assert (outside / ".tmp-0a1b2c3d-x.mp4").read_bytes() == b"not ours"
    assert (folder / ".tmp-0a1b2c3d-y.mp4").is_symlink()


def test_temp_names_are_own_and_unique(tmp_path: Path) -> None:
    names = {temp_name(tmp_path / "x.tar").name for _ in range(100)}
    assert len(names) == 100 and all(is_own_temp(n) for n in names)


def test_an_os_error_without_a_file_name_is_given_the_final_path(tmp_path: Path) -> None:
    import errno

    final = tmp_path / "sheet.png"
    with pytest.raises(OSError) as caught, atomic_path(final):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert caught.value.filename == str(final)
    assert not list(tmp_path.iterdir())  # the temporary file is gone too
