"""Output ownership (issue 15): the mark, the ledger, no writing or deleting through links,
and the stale-temporary cleanup limited to the toolkit's own names in its own folders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from talkingub.curate.output import SCHEMA_VERSION
from talkingub.errors import OutputFolderError
from talkingub.io.outdir import (
    LEDGER_NAME,
    MARK_NAME,
    Ledger,
    open_for_write,
    output_folder,
    written_folders,
)

STALE = ".tmp-0a1b2c3d-train-00000.tar"  # what a killed shard write leaves


def touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_new_folder_is_created_and_marked(tmp_path: Path) -> None:
    out = tmp_path / "new" / "out"
    with output_folder(out):
        pass
    mark = json.loads((out / MARK_NAME).read_text())
    assert mark["schema"] == SCHEMA_VERSION and mark["created"] and mark["adopted"] is False


def test_an_unmarked_non_empty_folder_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    notes = touch(tmp_path / "notes.txt", "mine")
    refused = pytest.raises(OutputFolderError, match="not made by talkingub")
    with refused as caught, output_folder(tmp_path):
        pytest.fail("entered a foreign folder")
    assert "--force" in str(caught.value) and "\n" not in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert notes.read_text() == "mine"


def test_force_adopts_without_deleting_anything(tmp_path: Path) -> None:
    files = [
        touch(tmp_path / "notes" / ".tmp-draft.txt"),
        touch(tmp_path / "deep" / "a" / "b" / ".tmp-thesis.tex"),
        touch(tmp_path / "shards" / "my_other_dataset.tar"),
        touch(tmp_path / "shards" / STALE),  # not known to be talkingub's before adoption
    ]
    with output_folder(tmp_path, force=True):
        pass
    assert all(p.read_text() == "x" for p in files)
    assert json.loads((tmp_path / MARK_NAME).read_text())["adopted"] is True
    with output_folder(tmp_path):  # marked now: no --force needed
        pass


def test_stale_temporaries_go_only_in_written_folders_and_only_own_names(tmp_path: Path) -> None:
    with output_folder(tmp_path):
        pass
    stale = [
        touch(tmp_path / STALE),
        touch(tmp_path / "shards" / STALE),
        touch(tmp_path / "work" / "v1" / "clips" / ".tmp-0a1b2c3d-c.mp4"),
        touch(tmp_path / "raw" / ".tmp-0a1b2c3d-v1.mp4"),
        touch(tmp_path / "export" / "fomm" / "train" / ".tmp-0a1b2c3d-c.mp4"),
    ]
    kept = [
        touch(tmp_path / "notes" / ".tmp-draft.txt"),
        touch(tmp_path / "notes" / STALE),  # own-looking, but in a folder the build never writes
        touch(tmp_path / "deep" / "a" / "b" / ".tmp-thesis.tex"),
        touch(tmp_path / "shards" / ".tmp-draft.txt"),
        touch(tmp_path / "work" / "v1" / "mine" / STALE),
    ]
    with output_folder(tmp_path):
        pass
    assert not any(p.exists() for p in stale)
    assert all(p.read_text() == "x" for p in kept)


@pytest.mark.parametrize("link", ["shards", "work", "work/v1", "work/v1/clips", "export/fomm"])
def test_a_symlink_inside_the_folder_is_refused_naming_it(tmp_path: Path, link: str) -> None:
    out = tmp_path / "out"
    outside = tmp_path / "outside"
    mine = touch(outside / "train-00000.tar", "mine")
    touch(outside / STALE, "mine too")
    with output_folder(out):
        pass
    (out / link).parent.mkdir(parents=True, exist_ok=True)
    (out / link).symlink_to(outside, target_is_directory=True)
    with pytest.raises(OutputFolderError, match="symbolic link") as caught, output_folder(out):
        pytest.fail("entered a folder with a symlink")
    assert str(out / link) in str(caught.value)
    assert sorted(p.name for p in outside.iterdir()) == sorted([STALE, mine.name])


def test_written_folders_are_the_existing_ones(tmp_path: Path) -> None:
    touch(tmp_path / "work" / "v1" / "clips" / "c.mp4")
    touch(tmp_path / "work" / "v2" / "thumbs" / "000001.jpg")
    touch(tmp_path / "notes" / "n.txt")
    found = {p.relative_to(tmp_path).as_posix() for p in written_folders(tmp_path)}
    assert found == {".", "work", "work/v1", "work/v1/clips", "work/v2", "work/v2/thumbs"}


def test_open_for_write_refuses_a_link(tmp_path: Path) -> None:
    target = touch(tmp_path / "outside.png", "keep")
    (tmp_path / "0000000.png").symlink_to(target)
    refused = pytest.raises(OutputFolderError, match="symbolic link")
    with refused, open_for_write(tmp_path / "0000000.png") as handle:
        handle.write(b"through the link")
    assert target.read_text() == "keep"


def test_ledger_claims_before_writing_and_deletes_only_its_own(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ours = tmp_path / "shards" / "train-00000.tar"
    ledger.claim([ours])
    assert Ledger(tmp_path).owns(ours)  # on disk before the file exists (a killed run)
    touch(ours)
    foreign = touch(tmp_path / "shards" / "my_other_dataset.tar")
    names = ["shards/train-00000.tar", "shards/my_other_dataset.tar"]
    removed = Ledger(tmp_path).remove_files(names)
    assert removed == [ours] and not ours.exists() and foreign.exists()
    assert not Ledger(tmp_path).owns(ours)


def test_ledger_refuses_to_overwrite_a_file_it_did_not_write(tmp_path: Path) -> None:
    foreign = touch(tmp_path / "videos.parquet", "mine")
    with pytest.raises(OutputFolderError, match="in the way"):
        Ledger(tmp_path).claim([foreign])
    assert not Ledger(tmp_path).owns(foreign)
    Ledger(tmp_path).claim([foreign], adopt=True)  # --force
    assert Ledger(tmp_path).owns(foreign)


def test_a_folder_entry_owns_only_the_files_named_as_asked(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.claim([tmp_path / "export" / "png" / "train" / "c1"])
    frames = re.compile(r"\d{7}\.png")
    assert ledger.owns_in_folder("export/png/train/c1/0000000.png", frames)
    assert not ledger.owns_in_folder("export/png/train/c1/notes.txt", frames)
    assert not ledger.owns_in_folder("export/png/train/c2/0000000.png", frames)
    assert not ledger.owns("export/png/train/c1/0000000.png")


def test_a_tampered_ledger_never_reaches_outside(tmp_path: Path) -> None:
    out = tmp_path / "out"
    victim = touch(tmp_path / "victim.txt", "keep")
    names = ["../victim.txt", str(victim), "a/../../victim.txt", "./x", "shards/a.tar"]
    touch(out / LEDGER_NAME, json.dumps({"version": 1, "paths": names}))
    ledger = Ledger(out)
    assert ledger.entries == {"shards/a.tar"}
    ledger.remove_files(names)
    assert victim.read_text() == "keep"


def test_ledger_deletes_nothing_through_a_link(tmp_path: Path) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside"
    mine = touch(outside / "train-00000.tar", "mine")
    Ledger(out).claim([out / "shards" / "train-00000.tar"])
    (out / "shards").symlink_to(outside, target_is_directory=True)
    with pytest.raises(OutputFolderError, match="symbolic link"):
        Ledger(out).remove_files(["shards/train-00000.tar"])
    assert mine.read_text() == "mine"
