"""One writer per folder (issue 15): `OUT/.lock`, held for a whole run, names its holder."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from talkingub.errors import FolderBusyError, OutputFolderError
from talkingub.io.lock import LOCK_NAME, folder_lock, holds
from tests.support.locks import held_by_other_process, holder_line


def test_a_second_process_fails_at_once_naming_the_holder(tmp_path: Path) -> None:
    with held_by_other_process(tmp_path) as child:
        start = time.monotonic()
        with pytest.raises(FolderBusyError) as caught, folder_lock(tmp_path):
            pytest.fail("two writers")
        assert time.monotonic() - start < 5
    message = str(caught.value)
    assert message.startswith(f"{tmp_path} is being built by {holder_line(child)}")
    assert "--wait" in message and "\n" not in message


def test_wait_blocks_until_the_holder_ends(tmp_path: Path) -> None:
    with held_by_other_process(tmp_path, seconds=1.5):
        start = time.monotonic()
        with folder_lock(tmp_path, wait=True):
            waited = time.monotonic() - start
            assert holds(tmp_path)
    assert waited > 0.5


def test_released_after_the_block_and_reentrant_within_a_process(tmp_path: Path) -> None:
    with folder_lock(tmp_path):
        with folder_lock(tmp_path):  # e.g. build -> its fetch stage
            assert holds(tmp_path)
        assert holds(tmp_path)
    assert not holds(tmp_path)
    with held_by_other_process(tmp_path, seconds=0.1):
        pass  # another process could take it


def test_the_lock_file_is_never_a_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).symlink_to(target)
    with pytest.raises(OutputFolderError, match="symbolic link"), folder_lock(out):
        pytest.fail("locked through a link")
    assert target.read_text() == "keep"


def test_threads_of_one_process_share_it(tmp_path: Path) -> None:
    entered: list[bool] = []

    def enter() -> None:
        with folder_lock(tmp_path):
            entered.append(True)

    with folder_lock(tmp_path):
        thread = threading.Thread(target=enter)
        thread.start()
        thread.join(5)
    assert entered == [True]
