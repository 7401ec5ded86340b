"""The yt-dlp backend's own pieces: the --max-filesize guard and the untyped-error refiner."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from yt_dlp.networking.exceptions import IncompleteRead, TransportError
from yt_dlp.utils import DownloadError

from talkingub.fetch.reasons import classify
from talkingub.fetch.ytdlp import FileTooLarge, _refine, _size_guard


def test_size_guard_stops_on_a_declared_or_a_received_size_over_the_limit() -> None:
    guard = _size_guard(1000)
    guard({"status": "downloading", "downloaded_bytes": 1000, "total_bytes": 1000})
    guard({"status": "downloading", "downloaded_bytes": 10, "total_bytes": None})
    with pytest.raises(FileTooLarge, match=r"declared 1001 bytes > max_filesize 1000"):
        guard({"status": "downloading", "downloaded_bytes": 10, "total_bytes": 1001})
    with pytest.raises(FileTooLarge, match=r"1024 bytes received > max_filesize 1000"):
        guard({"status": "downloading", "downloaded_bytes": 1024})
    assert classify(FileTooLarge("x")).reason == "too_large"


def untyped() -> DownloadError:
    """What yt-dlp's HTTP downloader raises after its retry loop: no exception attached."""
    return DownloadError("ERROR: [download] Got error: boom", (None, None, None))


@pytest.mark.parametrize(
    ("recorded", "reason"),
    [
        (IncompleteRead(partial=10, expected=100), "network"),
        (TransportError(cause=TimeoutError("timed out")), "timeout"),
    ],
)
def test_an_untyped_download_error_gets_the_recorded_transport_error(
    tmp_path: Path, recorded: BaseException, reason: str
) -> None:
    (tmp_path / "x.mp4.part").write_bytes(b"some bytes")
    refined = _refine(untyped(), tmp_path, [recorded])
    assert classify(refined).reason == reason
    assert classify(refined).error == "ERROR: [download] Got error: boom"


def test_without_a_recorded_error_no_bytes_is_an_empty_body(tmp_path: Path) -> None:
    assert classify(_refine(untyped(), tmp_path, [])).reason == "empty_file"
    (tmp_path / "x.mp4.part").write_bytes(b"some bytes")
    exc = untyped()
    assert _refine(exc, tmp_path, []) is exc


def test_a_typed_download_error_is_left_alone(tmp_path: Path) -> None:
    try:
        raise IncompleteRead(partial=1, expected=2)
    except IncompleteRead:
        exc = DownloadError("typed", sys.exc_info())
    assert _refine(exc, tmp_path, [TransportError(cause=TimeoutError())]) is exc
