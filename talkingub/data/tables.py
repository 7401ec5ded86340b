"""`load_build`: the four Parquet tables and `build.json` of a `talkingub build` output."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from talkingub.errors import ConfigError
from talkingub.manifest.schema import OUTPUT_TABLES, check_build, check_table, output_version

if TYPE_CHECKING:
    import pandas as pd

BUILD_JSON = "build.json"


@dataclasses.dataclass(frozen=True, eq=False)  # DataFrames have no truth value: compare `is`
class BuildTables:
    """A build's tables as pandas DataFrames (columns: `talkingub.manifest.schema`
    `OUTPUT_SCHEMAS`), its `build.json` and its folder."""

    root: Path
    build: dict[str, Any]  # build.json: resolved config, schema version, provenance
    videos: pd.DataFrame  # one row per manifest row
    clips: pd.DataFrame  # one row per segment, kept or rejected (kept + `shard`: in a shard)
    frames: pd.DataFrame  # analysed frames (`analysed`) and output frames (`sampled`)
    splits: pd.DataFrame  # video -> identity -> split

    def kept_clips(self, split: str | None = None) -> pd.DataFrame:
        """The clips in the shards (all splits, or `split`: "train" / "test")."""
        clips = self.clips[(self.clips["status"] == "kept") & self.clips["shard"].notna()]
        return clips if split is None else clips[clips["split"] == split]


def load_build(path: str | Path) -> BuildTables:
    """Read the build in folder `path`. A folder that is not a `talkingub build` output
    (no `build.json` object or a missing table) is refused with `ConfigError`; a build or
    table of a schema version this talkingub cannot read with `SchemaVersionError` (one line
    naming both versions)."""
    import pandas as pd

    root = Path(path)
    if not root.is_dir():
        raise ConfigError(f"{root}: no such folder (expected a `talkingub build` output)")
    files = [BUILD_JSON, *(f"{name}.parquet" for name in OUTPUT_TABLES)]
    missing = [name for name in files if not (root / name).is_file()]
    if missing:
        raise ConfigError(f"{root} is not a `talkingub build` output: missing {', '.join(missing)}")
    build = _read_build_json(root / BUILD_JSON)
    check_build(root)
    tables: dict[str, pd.DataFrame] = {}
    for name in OUTPUT_TABLES:
        table = root / f"{name}.parquet"
        check_table(table, output_version(name))
        tables[name] = pd.read_parquet(table)
    return BuildTables(root=root, build=build, **tables)


def _read_build_json(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not readable as JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise ConfigError(f"{path}: not a JSON object: is {path.parent} a `talkingub build`?")
    return meta
