"""Typed settings of the fetch stage (CLI flags > recipe file > these defaults).

These field defaults are the only copy: the CLI's flags default to None (not given) and
`--help` shows the values read from here (`talkingub.cli.fetch_cmd.library_option`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal


@dataclasses.dataclass(frozen=True)
class FetchConfig:
    manifest: Path
    out_dir: Path
    workers: int = 4  # rows fetched in parallel (threads: the work is network/disk bound)
    max_height: int = 1080  # format cap; the chosen stream's height/fps are recorded
    retries: int = 3  # extra attempts for transient failures only
    backoff_base: float = 2.0  # seconds; attempt n waits base * 2**(n-1) * jitter
    backoff_max: float = 60.0
    rate_limit: float = 0.0  # requests per minute shared by all workers (0 = unlimited)
    socket_timeout: float = 30.0
    cookies: Path | None = None
    proxy: str | None = None
    max_filesize: int | None = None  # bytes
    local_mode: Literal["link", "copy"] = "link"  # hard-link local files when possible
    dry_run: bool = False
    on_invalid_row: Literal["error", "skip"] = "error"
    progress: bool = True
    # adopt a non-empty OUT that talkingub did not make (its files are never deleted)
    force: bool = False
    wait: bool = False  # OUT locked by another run: wait for it instead of failing at once

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be >= 1")
        if self.retries < 0:
            raise ValueError("retries must be >= 0")
