"""What produced an output: package, config, backends, tools (written into build.json)."""

from __future__ import annotations

import importlib.metadata
import platform
from typing import Any

from talkingub import __version__
from talkingub.config import config_hash
from talkingub.curate.config import BuildConfig
from talkingub.curate.run_types import VideoOutcome


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def provenance(config: BuildConfig, outcomes: list[VideoOutcome]) -> dict[str, Any]:
    from talkingub.tools.ffmpeg import ffmpeg_version

    backends = sorted(
        {
            f"{o.result.analysis.backend} {o.result.analysis.backend_version}"
            for o in outcomes
            if o.result
        }
    )
    return {
        "talkingub": __version__,
        "config_hash": config_hash(config),
        "analysis_backends": backends,
        "python": platform.python_version(),
        "packages": {
            p: _version(p)
            for p in (
                "av",
                "yt-dlp",
                "scenedetect",
                "mediapipe",
                "opencv-contrib-python",
                "webdataset",
                "pyarrow",
            )
        },
        "ffmpeg": ffmpeg_version(),  # the binary yt-dlp uses for section downloads
        "libav": _libav_version(),  # the FFmpeg libraries PyAV decodes and encodes with
    }


def _libav_version() -> str | None:
    try:
        import av
    except ImportError:
        return None
    return str(getattr(av, "ffmpeg_version_info", "")) or None
