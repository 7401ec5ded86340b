"""`talkingub refilter`: change decision thresholds of a finished build without detection.

The resolved config of the build is read from `OUT/build.json`; overrides apply to the
`filters`, `crop`, `split` and `output` sections only (changing what is *measured* needs a
rebuild; a crop change re-encodes the kept clips).
Cached analyses are required: a video without one is reported `not_analysed`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from talkingub.config import from_dict, set_dotted
from talkingub.curate.config import BuildConfig
from talkingub.curate.runner import BuildRun, BuildSummary, run
from talkingub.errors import ConfigError
from talkingub.manifest.schema import SCHEMA_VERSION, check_version

ALLOWED_SECTIONS = ("filters", "crop", "split", "output")


def refilter(
    out_dir: Path,
    overrides: dict[str, Any],
    workers: int = 2,
    progress: bool = True,
    executor: str = "process",
    force: bool = False,
    wait: bool = False,
    verbose: bool = False,
) -> BuildSummary:
    meta_path = out_dir / "build.json"
    if not meta_path.is_file():
        raise ConfigError(f"{meta_path} not found: refilter needs a finished build")
    meta = json.loads(meta_path.read_text())
    found = meta.get("schema")
    check_version(None if found is None else str(found), SCHEMA_VERSION, meta_path)
    data = meta["config"]
    for key, value in overrides.items():
        if key.split(".")[0] not in ALLOWED_SECTIONS:
            raise ConfigError(
                f"refilter cannot change {key!r} (only {', '.join(ALLOWED_SECTIONS)})"
            )
        set_dotted(data, key, value)
    recipe = from_dict(BuildConfig, data)
    build = BuildRun(
        out_dir=out_dir,
        recipe=recipe,
        stages=("process",),
        workers=workers,
        executor=executor,
        progress=progress,
        analysis_must_exist=True,
        force=force,
        wait=wait,
        verbose=verbose,
    )
    return run(dataclasses.replace(build))
