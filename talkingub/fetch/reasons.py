"""Reason codes for every row that is not `ok`, and their classification from exceptions.

Classification follows exception *types* (yt-dlp's networking and extractor exception
classes, HTTP status codes, our own `ProbeError`). yt-dlp has no exception type for a
private, age-restricted or members-only video: it raises a plain `ExtractorError(expected=
True)`; for those alone the classifier falls back to yt-dlp's own fixed wording (see
`_EXPECTED_MARKERS`), and anything else expected becomes `unavailable`.
"""

from __future__ import annotations

import dataclasses
import socket
import urllib.error
from typing import Any

REASONS: dict[str, str] = {
    # ok / skipped
    "fetched": "downloaded or linked and verified",
    "dry_run": "available (dry run: nothing downloaded)",
    "invalid_row": "the manifest row failed validation (see error)",
    # remote failures
    "not_found": "HTTP 404/410 or no such local file",
    "forbidden": "HTTP 401/403",
    "unavailable": "the site says the video is unavailable or removed",
    "private": "private video",
    "age_restricted": "age-restricted video (needs --cookies of a signed-in account)",
    "login_required": "members-only or sign-in required (needs --cookies)",
    "geo_blocked": "not available from this location (try --proxy)",
    "rate_limited": "HTTP 429 / too many requests (transient; lower --rate-limit)",
    "server_error": "HTTP 5xx (transient)",
    "network": "connection failed or was cut (transient)",
    "timeout": "the server stalled past --socket-timeout (transient)",
    "unsupported_url": "no yt-dlp extractor handles this URL",
    "no_format": "no format at or below the height cap",
    "too_large": "file larger than --max-filesize",
    # local/media failures
    "not_a_file": "the local path is a directory, FIFO or device, not a regular file",
    "empty_file": "zero-byte file",
    "not_a_video": "the file is not a video (e.g. a still or animated image, or text renamed .mp4)",
    "no_video_stream": "the container has no video stream (e.g. audio only)",
    "corrupt": "a video container that cannot be decoded (truncated or damaged)",
    "error": "unexpected error (see error text)",
}

TRANSIENT = frozenset({"rate_limited", "server_error", "network", "timeout"})

# yt-dlp's fixed phrases for conditions it raises as untyped ExtractorError (expected=True).
_EXPECTED_MARKERS = (
    ("requested format is not available", "no_format"),
    ("private video", "private"),
    ("confirm your age", "age_restricted"),
    ("age-restricted", "age_restricted"),
    ("members-only", "login_required"),
    ("sign in", "login_required"),
)


@dataclasses.dataclass(frozen=True)
class Failure:
    reason: str
    error: str

    @property
    def transient(self) -> bool:
        return self.reason in TRANSIENT


def classify(exc: BaseException) -> Failure:
    """Map an exception (possibly a yt-dlp DownloadError wrapping another) to a reason code."""
    for link in reversed(_chain(exc)):  # the innermost specific cause wins
        reason = _by_type(link)
        if reason is not None:
            return Failure(reason, _message(exc))
    return Failure("error", _message(exc))


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes: yt-dlp's `exc_info` / `cause`, Python's `__cause__`."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = _inner(current)
    return chain


def _inner(exc: BaseException) -> BaseException | None:
    exc_info = getattr(exc, "exc_info", None)
    if exc_info and isinstance(exc_info[1], BaseException) and exc_info[1] is not exc:
        return exc_info[1]
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return cause
    return exc.__cause__ if exc.__cause__ is not exc else None


def _by_type(exc: BaseException) -> str | None:
    from talkingub.errors import ReasonedError

    if isinstance(exc, ReasonedError):
        return exc.reason
    if isinstance(exc, FileNotFoundError):
        return "not_found"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(exc, urllib.error.HTTPError):
        return _http_reason(exc.code)
    return _ytdlp_reason(exc)


def _ytdlp_reason(exc: BaseException) -> str | None:
    try:
        from yt_dlp.networking import exceptions as net
        from yt_dlp.utils import (
            ContentTooShortError,
            ExtractorError,
            GeoRestrictedError,
            UnavailableVideoError,
            UnsupportedError,
        )
    except ImportError:  # pragma: no cover - yt-dlp is a core dependency
        return None
    if isinstance(exc, net.HTTPError):
        return _http_reason(exc.status)
    if isinstance(exc, net.IncompleteRead | ContentTooShortError):
        return "network"
    if isinstance(exc, net.TransportError):
        return "timeout" if _is_timeout(exc) else "network"
    table: tuple[tuple[type[BaseException], str], ...] = (
        (GeoRestrictedError, "geo_blocked"),
        (UnsupportedError, "unsupported_url"),
        (UnavailableVideoError, "unavailable"),
    )
    for cls, reason in table:
        if isinstance(exc, cls):
            return reason
    if isinstance(exc, ExtractorError):
        return _login_wall(exc) if exc.expected else None
    return None


def _http_reason(status: int) -> str:
    if status in (404, 410):
        return "not_found"
    if status in (401, 403):
        return "forbidden"
    if status == 429:
        return "rate_limited"
    return "server_error" if status >= 500 else "error"


def _is_timeout(exc: BaseException) -> bool:
    cause = getattr(exc, "cause", None)
    if isinstance(cause, TimeoutError | socket.timeout | _urllib3_timeout()):
        return True  # the requests handler raises urllib3's ReadTimeoutError on a stalled body
    text = f"{exc!r} {cause!r}".lower()
    return "timed out" in text


def _urllib3_timeout() -> type[BaseException]:
    try:
        from urllib3.exceptions import TimeoutError as Urllib3Timeout
    except ImportError:  # pragma: no cover - urllib3 comes with yt-dlp's requests handler
        return TimeoutError
    return Urllib3Timeout


def _login_wall(exc: Any) -> str:
    message = str(getattr(exc, "orig_msg", exc)).lower()
    for marker, reason in _EXPECTED_MARKERS:
        if marker in message:
            return reason
    return "unavailable"


def _message(exc: BaseException) -> str:
    text = str(exc).replace("\x1b[0;31m", "").replace("\x1b[0m", "").replace("\r", "")
    return (text.strip() or type(exc).__name__)[:2000]
