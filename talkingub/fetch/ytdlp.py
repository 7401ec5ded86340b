"""Fetch backend for http(s) URLs: yt-dlp embedded as a library.

Downloads go to `raw/.partial/<video_id>/` (yt-dlp may resume its `.part` files there on a
re-run); only a finished file is moved to `raw/<video_id>.<ext>`, so a partial download is
never taken for a finished one.

Two things yt-dlp does not report in a typed way are recovered here:

- its HTTP downloader reports a body read that failed (connection cut, read timeout) through
  its own retry loop as an *untyped* `DownloadError`; `_RecordingYoutubeDL` keeps the typed
  transport error itself, so the classifier sees `IncompleteRead` or a timeout, not text;
- `--max-filesize` is enforced by a progress hook (`_size_guard`) instead of yt-dlp's own
  option, which skips an over-size download silently (no exception, no size) and does not
  apply at all to a body without a Content-Length.
"""

from __future__ import annotations

import functools
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from talkingub.errors import ReasonedError
from talkingub.fetch.config import FetchConfig
from talkingub.io.atomic import atomic_path
from talkingub.manifest.schema import SourceRow
from talkingub.tools.ffmpeg import ensure_on_path

log = logging.getLogger("talkingub.fetch.ytdlp")
ProgressHook = Callable[[dict[str, Any]], None]


class NoFileProduced(ReasonedError):
    """yt-dlp returned without a file, or the server sent a body with no bytes."""


class FileTooLarge(ReasonedError):
    """The body is larger than --max-filesize (declared by the server or counted)."""

    def __init__(self, detail: str) -> None:
        super().__init__("too_large", detail)


def ytdlp_version() -> str:
    from yt_dlp.version import __version__

    return str(__version__)


class _LoggerAdapter:
    """yt-dlp's logger protocol routed to `logging` (it would print to stdout otherwise)."""

    def debug(self, msg: str) -> None:
        log.debug(msg)

    def info(self, msg: str) -> None:
        log.debug(msg)

    def warning(self, msg: str) -> None:
        log.info(msg)

    def error(self, msg: str) -> None:
        log.debug(msg)


def format_selector(max_height: int) -> str:
    """Best video-only, else best muxed, at or below the cap (unknown heights allowed)."""
    cap = f"[height<=?{max_height}]"
    return f"bv*{cap}[vcodec!=none]/b{cap}[vcodec!=none]/b{cap}"


def build_options(
    row: SourceRow, config: FetchConfig, workdir: Path, hook: ProgressHook | None
) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "format": format_selector(config.max_height),
        "outtmpl": str(workdir / f"{row.video_id}.%(ext)s"),
        "paths": {"home": str(workdir), "temp": str(workdir)},
        "noplaylist": True,
        "quiet": True,
        "noprogress": True,
        "no_warnings": True,
        "logger": _LoggerAdapter(),
        "progress_hooks": _hooks(config, hook),
        "socket_timeout": config.socket_timeout,
        "retries": 0,  # retries with backoff happen one level up, for transient errors only
        "fragment_retries": 0,
        "extractor_retries": 0,
        "continuedl": True,
        "overwrites": False,
        "cachedir": False,
        "color": {"stdout": "never", "stderr": "never"},
    }
    _optional(opts, config, row)
    return opts


def _optional(opts: dict[str, Any], config: FetchConfig, row: SourceRow) -> None:
    if config.cookies:
        opts["cookiefile"] = str(config.cookies)
    if config.proxy:
        opts["proxy"] = config.proxy
    if row.start is not None or row.end is not None:
        from yt_dlp.utils import download_range_func

        ensure_on_path()  # section downloads run ffmpeg, which yt-dlp looks up on PATH
        opts["download_ranges"] = download_range_func(
            None, [(row.start or 0.0, row.end or float("inf"))]
        )
        opts["force_keyframes_at_cuts"] = False


def _hooks(config: FetchConfig, hook: ProgressHook | None) -> list[ProgressHook]:
    hooks = [_size_guard(config.max_filesize)] if config.max_filesize else []
    return hooks + ([hook] if hook else [])


def _size_guard(limit: int) -> ProgressHook:
    """Stop a download as soon as its declared or received size passes `limit` bytes.

    The first call comes after the first block (about 1 KiB) of the body, so an over-size
    body with a Content-Length costs one block; one without is stopped just past the limit."""

    def guard(status: dict[str, Any]) -> None:
        declared = status.get("total_bytes")
        received = status.get("downloaded_bytes") or 0
        if declared and declared > limit:
            raise FileTooLarge(f"the server declared {declared} bytes > max_filesize {limit}")
        if received > limit:
            raise FileTooLarge(
                f"{received} bytes received > max_filesize {limit} "
                "(no size declared); download stopped"
            )

    return guard


@functools.cache
def _recording_youtube_dl() -> Any:
    """A YoutubeDL class that keeps the transport errors raised during its download."""
    from yt_dlp import YoutubeDL
    from yt_dlp.networking.exceptions import TransportError

    class _RecordingYoutubeDL(YoutubeDL):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.transport_errors: list[BaseException] = []

        def dl(self, *args: Any, **kwargs: Any) -> Any:
            self.transport_errors = []  # only the download's own errors count, not extraction's
            return super().dl(*args, **kwargs)

        def urlopen(self, req: Any) -> Any:
            try:
                response = super().urlopen(req)
            except TransportError as exc:
                self.transport_errors.append(exc)
                raise
            read = response.read

            def recording_read(*args: Any, **kwargs: Any) -> Any:
                try:
                    return read(*args, **kwargs)
                except TransportError as exc:
                    self.transport_errors.append(exc)
                    raise

            response.read = recording_read  # this response only; the class is untouched
            return response

    return _RecordingYoutubeDL


def download(
    row: SourceRow, config: FetchConfig, raw_dir: Path, hook: ProgressHook | None = None
) -> tuple[Path, dict[str, Any]]:
    """Download one row; returns the final file and yt-dlp's info dict (sanitised)."""
    from yt_dlp.utils import DownloadError

    workdir = raw_dir / ".partial" / row.video_id
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        with _recording_youtube_dl()(build_options(row, config, workdir, hook)) as ydl:
            try:
                info = ydl.extract_info(row.url, download=True)
            except DownloadError as exc:
                refined = _refine(exc, workdir, ydl.transport_errors)
                if refined is exc:
                    raise
                raise refined from exc
    except FileTooLarge:
        shutil.rmtree(workdir, ignore_errors=True)  # not worth resuming: it stays too large
        raise
    produced = _finished_file(workdir, row.video_id)
    if produced is None:
        raise _why_nothing(info, config)
    final = raw_dir / f"{row.video_id}{produced.suffix}"
    with atomic_path(final) as tmp:
        shutil.move(str(produced), tmp)
    shutil.rmtree(workdir, ignore_errors=True)
    return final, info or {}


def probe_remote(row: SourceRow, config: FetchConfig) -> dict[str, Any]:
    """Resolve the URL and the chosen format without downloading (for --dry-run)."""
    from yt_dlp import YoutubeDL

    opts = build_options(row, config, Path("/nonexistent"), None)
    opts.pop("download_ranges", None)
    with YoutubeDL(opts) as ydl:
        return ydl.extract_info(row.url, download=False) or {}


def _refine(exc: Exception, workdir: Path, transport_errors: list[BaseException]) -> Exception:
    """Give an untyped DownloadError its cause.

    yt-dlp's HTTP downloader reports a failed body read after its own retry loop, outside the
    `except` block, so the DownloadError carries no exception; the transport error recorded
    during the download is that cause. With none, a download that wrote no bytes is a body
    with no data."""
    from yt_dlp.utils import DownloadError

    untyped = not (getattr(exc, "exc_info", None) or (None, None))[1]
    if not untyped:
        return exc
    if transport_errors:
        cause = transport_errors[-1]
        return DownloadError(str(exc), (type(cause), cause, cause.__traceback__))
    received = sum(p.stat().st_size for p in workdir.glob("*") if p.is_file())
    if received == 0:
        return NoFileProduced("empty_file", f"the server sent no data ({exc})")
    return exc


def _finished_file(workdir: Path, video_id: str) -> Path | None:
    for path in sorted(workdir.glob(f"{video_id}.*")):
        if path.suffix not in (".part", ".ytdl", ".temp") and ".part" not in path.suffixes:
            return path
    return None


def _why_nothing(info: dict[str, Any] | None, config: FetchConfig) -> NoFileProduced:
    size = (info or {}).get("filesize") or (info or {}).get("filesize_approx")
    if config.max_filesize and size and size > config.max_filesize:
        return NoFileProduced("too_large", f"{size} bytes > max_filesize {config.max_filesize}")
    return NoFileProduced("error", "yt-dlp finished without producing a file")
