"""Which build a bench run used (`BuildRef`: its path, config hash and manifest digest), and
the checks that keep runs of different builds apart.

`bench train` records the build in the run's `run.json` and in its checkpoints, `bench eval`
in `summary.json` beside the results (with the build the checkpoint was trained on), and
`bench table` refuses to put runs of different builds in one table (`MixedBuildsError`)
unless it is allowed to (`--allow-mixed-builds`), when the tables say so.

Two refs are the same build when their config hash and manifest digest agree; the path is
recorded, not compared (a build moved or mounted elsewhere is the same build). The manifest
digest is the sha256 of the lines `<sha256>  <name>` (the `sha256sum` format, sorted by
name, each ending in a newline) of the four manifest tables, `clips.parquet`,
`frames.parquet`, `splits.parquet` and `videos.parquet`, hashed from their bytes: they decide
which clips, frames and splits the bench reads (shard, crop box, sampled frames), and
`talkingub refilter` rewrites them (new decisions; every row names the new config), while a
build writes the same bytes from the same inputs and reading them changes nothing. The
shards are left out: what they hold follows from the tables and the config, and hashing
them would read the whole dataset. On a complete build the digest equals
`grep -E '  (clips|frames|splits|videos)\\.parquet$' SHA256SUMS | sha256sum`. A table that
is missing is hashed as `missing`, and a build without `build.json` has no config hash
(both only in hand-made test builds).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from talkingub.errors import ConfigError
from talkingub.io.atomic import sha256_file

MANIFEST_TABLES = ("clips", "frames", "splits", "videos")  # sorted, as SHA256SUMS lists them
FLAG = "--allow-mixed-builds"
UNKNOWN = "unknown build"
PREFIX = 12  # hex digits of the digest shown in messages and tables


@dataclasses.dataclass(frozen=True)
class BuildRef:
    """A build as a bench run saw it. `path`: resolved; `config_hash`: `build.json`'s (None
    when there is none); `manifest_digest`: see the module docstring."""

    path: str
    config_hash: str | None
    manifest_digest: str

    @classmethod
    def from_build(cls, build_dir: str | Path) -> BuildRef:
        root = Path(build_dir).resolve()
        return cls(str(root), read_config_hash(root), manifest_digest(root))

    @property
    def key(self) -> tuple[str | None, str]:
        """What two refs of the same build share (the path aside)."""
        return (self.config_hash, self.manifest_digest)

    def same_build(self, other: BuildRef) -> bool:
        return self.key == other.key

    @property
    def label(self) -> str:
        """`config <hash>, manifests <digest prefix>`: how messages and tables name it."""
        return f"config {self.config_hash or '?'}, manifests {self.manifest_digest[:PREFIX]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "config_hash": self.config_hash,
            "manifest_digest": self.manifest_digest,
            "digest_of": [f"{name}.parquet" for name in MANIFEST_TABLES],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: Any, where: str = "build ref") -> BuildRef:
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected an object, got {type(data).__name__}")
        path, chash, digest = (data.get(k) for k in ("path", "config_hash", "manifest_digest"))
        if not isinstance(path, str) or not isinstance(digest, str):
            raise ConfigError(f"{where}: needs 'path' and 'manifest_digest' strings")
        if chash is not None and not isinstance(chash, str):
            raise ConfigError(f"{where}: 'config_hash' must be a string or null")
        return cls(path, chash, digest)

    @classmethod
    def from_json(cls, text: str, where: str = "build ref") -> BuildRef:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{where}: not JSON ({exc})") from None
        return cls.from_dict(data, where)


def read_config_hash(build_dir: Path) -> str | None:
    """`build.json`'s config hash; None when the file, or the hash, is missing."""
    try:
        meta = json.loads((build_dir / "build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = meta.get("config_hash") if isinstance(meta, dict) else None
    return str(found) if found is not None else None


def manifest_digest(build_dir: Path) -> str:
    lines = "".join(f"{_file_hash(build_dir / n)}  {n}\n" for n in _table_names())
    return hashlib.sha256(lines.encode()).hexdigest()


def _table_names() -> list[str]:
    return [f"{name}.parquet" for name in MANIFEST_TABLES]


def _file_hash(path: Path) -> str:
    return sha256_file(path) if path.is_file() else "missing"


def optional_ref(data: Any, where: str) -> BuildRef | None:
    """The ref recorded as `data` (a JSON object), or None when nothing was recorded."""
    return None if data is None else BuildRef.from_dict(data, where)


# --- several runs: one build, or a refusal that names them --------------------------------


@dataclasses.dataclass(frozen=True)
class RunBuild:
    """One run (`fomm seed 0`, `copy-source`) and the build it was evaluated on (None: an
    evaluation written before talkingub recorded builds)."""

    run: str
    ref: BuildRef | None


@dataclasses.dataclass(frozen=True)
class BuildGroup:
    """One build and the runs made on it, in the order they were given."""

    ref: BuildRef | None
    runs: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.ref.label if self.ref is not None else UNKNOWN


class MixedBuildsError(ConfigError):
    """Runs, or a checkpoint and the build it is evaluated on, come from different builds
    (rebuilt or refiltered in between); `groups` names the builds and their runs."""

    def __init__(self, message: str, groups: Sequence[BuildGroup] = ()) -> None:
        self.groups = tuple(groups)
        super().__init__(message)


def group_builds(runs: Iterable[RunBuild]) -> list[BuildGroup]:
    """The distinct builds of `runs` (unknown: one group of its own), in first-seen order."""
    order: dict[tuple[str | None, str] | None, tuple[BuildRef | None, list[str]]] = {}
    for item in runs:
        key = item.ref.key if item.ref is not None else None
        order.setdefault(key, (item.ref, []))[1].append(item.run)
    return [BuildGroup(ref, tuple(names)) for ref, names in order.values()]


def check_one_build(runs: Iterable[RunBuild], allow: bool = False) -> list[BuildGroup]:
    """The builds of `runs`; more than one is refused (`MixedBuildsError`) unless `allow`."""
    groups = group_builds(runs)
    if len(groups) > 1 and not allow:
        raise MixedBuildsError(mixed_message(groups), groups)
    return groups


def mixed_message(groups: Sequence[BuildGroup], shown: int = 4) -> str:
    parts = []
    for group in groups:
        names = ", ".join(group.runs[:shown])
        if len(group.runs) > shown:
            names += f" (+{len(group.runs) - shown} more)"
        parts.append(f"{group.label}: {names}")
    hint = "re-run `talkingub bench eval` on one build"
    if any(g.ref is None for g in groups):
        hint += f" ({UNKNOWN}: evaluated by an older talkingub, which recorded none)"
    return (
        f"the evaluations come from {len(groups)} different builds: {'; '.join(parts)}; "
        f"{hint}, or pass {FLAG} to table them anyway (the tables then list the builds)"
    )


def check_trained_on(
    run: str, trained: BuildRef | None, current: BuildRef, allow: bool = False
) -> None:
    """Refuse to evaluate `run`, trained on `trained`, on another build (`current`) unless
    `allow`. A checkpoint that records no build (an older talkingub) is not refused."""
    if trained is None or trained.same_build(current) or allow:
        return
    groups = [BuildGroup(trained, (f"{run} (trained)",)), BuildGroup(current, ("evaluation",))]
    raise MixedBuildsError(
        f"{run} was trained on {trained.label} but {current.path} is now {current.label} "
        f"(rebuilt or refiltered since): train it again (`talkingub bench train --restart`) "
        f"or pass {FLAG} to evaluate it anyway",
        groups,
    )


def check_resume(
    run: str, earlier: BuildRef | None, current: BuildRef, allow: bool = False
) -> BuildRef | None:
    """Refuse to resume `run`, begun on `earlier`, on another build unless `allow`; the
    earlier build when it differs (and is allowed), to be recorded."""
    if earlier is None or earlier.same_build(current):
        return None
    if not allow:
        raise MixedBuildsError(
            f"{run} was begun on {earlier.label} but {current.path} is now {current.label} "
            f"(rebuilt or refiltered since): start over (`--restart`) or pass {FLAG} to "
            "continue it on the new build",
            [BuildGroup(earlier, (run,)), BuildGroup(current, ("resume",))],
        )
    return earlier
