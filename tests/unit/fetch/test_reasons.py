"""Reason codes come from exception types (yt-dlp's own classes, HTTP statuses)."""

from __future__ import annotations

import io
import urllib.error

import pytest
from urllib3.exceptions import ReadTimeoutError
from yt_dlp.networking import Response
from yt_dlp.networking.exceptions import HTTPError, IncompleteRead, TransportError
from yt_dlp.utils import DownloadError, ExtractorError, GeoRestrictedError, UnsupportedError

from talkingub.fetch.reasons import REASONS, TRANSIENT, classify
from talkingub.video.probe import ProbeError


def http_error(status: int) -> HTTPError:
    return HTTPError(Response(io.BytesIO(b""), "http://x/", {}, status=status))


def wrapped(exc: BaseException) -> DownloadError:
    """What YoutubeDL raises: a DownloadError carrying the original in exc_info."""
    try:
        raise exc
    except BaseException as inner:
        import sys

        return DownloadError(str(inner), sys.exc_info())


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (http_error(404), "not_found"),
        (http_error(410), "not_found"),
        (http_error(403), "forbidden"),
        (http_error(429), "rate_limited"),
        (http_error(503), "server_error"),
        (TransportError(cause=TimeoutError("timed out")), "timeout"),
        (TransportError(cause=ConnectionRefusedError()), "network"),
        # the requests handler's stalled body: urllib3's type, whatever its wording
        (TransportError(cause=ReadTimeoutError(None, "http://x/", "stalled")), "timeout"),  # type: ignore[arg-type]
        (IncompleteRead(partial=10, expected=100), "network"),
        (GeoRestrictedError("blocked", countries=["DE"]), "geo_blocked"),
        (UnsupportedError("gopher://x"), "unsupported_url"),
        (
            ExtractorError("Private video. Sign in if you've been granted access", expected=True),
            "private",
        ),
        (ExtractorError("Sign in to confirm your age", expected=True), "age_restricted"),
        (ExtractorError("Video unavailable", expected=True), "unavailable"),
        (ExtractorError("boom"), "error"),
        (ProbeError("no_video_stream", "audio only"), "no_video_stream"),
        (FileNotFoundError("x"), "not_found"),
        (urllib.error.HTTPError("http://x", 404, "nf", {}, None), "not_found"),  # type: ignore[arg-type]
    ],
)
def test_classification_by_type_also_through_download_error(
    exc: BaseException, reason: str
) -> None:
    assert classify(exc).reason == reason
    assert classify(wrapped(exc)).reason == reason
    assert reason in REASONS


def test_only_transient_reasons_are_retried() -> None:
    assert classify(http_error(429)).transient
    assert not classify(http_error(404)).transient
    assert set(REASONS) >= TRANSIENT


def test_error_text_has_no_carriage_returns_or_colour_codes() -> None:
    exc = DownloadError("ERROR: \r[download] Got error: \x1b[0;31m10 bytes read\x1b[0m")
    assert classify(exc).error == "ERROR: [download] Got error: 10 bytes read"
