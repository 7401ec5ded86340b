"""`talkingub verify DIR`: check a finished build against itself.

Integrity: SHA256SUMS lists every output file of the build (the Parquet tables, build.json,
stats.json, funnel.md/png, DATASET_CARD.md, report/, contact sheets, exports, shards); every
listed path stays inside DIR (no absolute path, no `..`, no symlink out of DIR) and matches
its hash; every output file on disk is listed; the required files exist.
Consistency: the schema version of each Parquet table; clip rows vs shard samples, both ways;
each sample's JSON vs its clip row and its frames.parquet rows (sampled frames, face boxes,
crop box, clip id, split); the funnel counts in stats.json vs the tables and the shards; the
exports and contact sheets the recorded config asks for; every file report/index.html links;
kept frame rows point at sharded clips; no identity or video in both splits.
Nothing outside DIR is opened, and an unreadable file is a problem, never a crash.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pandas as pd
import pyarrow.parquet as pq

from talkingub.curate.shards import output_files
from talkingub.curate.verify_samples import (
    Sample,
    check_counts,
    check_samples,
    inside,
    read_shards,
)
from talkingub.io.atomic import sha256_file
from talkingub.manifest.schema import (
    OUTPUT_TABLES,
    SCHEMA_VERSION,
    output_version,
    recorded_version,
    supports,
)

TABLES = OUTPUT_TABLES
REPORTS = (
    "build.json",
    "stats.json",
    "funnel.md",
    "funnel.png",
    "DATASET_CARD.md",
    "report/index.html",
)
LINK = re.compile(r'(?:src|href)="([^"#][^"]*)"')  # the report page's local links
DIGEST = re.compile(r"[0-9a-f]{64}")
MAX_LINES = 20  # problems of one kind listed before "... and N more"


def verify_build(out: Path, progress: Callable[[int, int], None] | None = None) -> list[str]:
    """A list of problems (empty when the build is consistent); `progress(files hashed,
    files listed)` as SHA256SUMS is checked (the long part)."""
    root = out.resolve()
    problems = _check_sums(root, progress)
    for name in REPORTS:
        _, why = _local_file(root, name)
        problems += [why] if why else []
    tables, table_problems = _read_tables(root)
    problems += table_problems
    if tables is None:
        return problems  # the tables cannot be trusted (or read): no row checks
    meta = _read_json(root, "build.json", problems)
    stats = _read_json(root, "stats.json", problems)
    samples: dict[str, Sample] = {}

    def load_shards() -> list[str]:
        found, lines = read_shards(root, tables["clips"])
        samples.update(found)
        return lines

    problems += _guarded("shards", load_shards)
    checks: list[tuple[str, Callable[[], list[str]]]] = [
        ("build.json", lambda: _check_meta(meta, stats)),
        ("samples", lambda: check_samples(samples, tables, meta)),
        ("stats.json", lambda: check_counts(stats, tables, samples)),
        ("export", lambda: _check_exports(root, meta, tables["clips"], tables["frames"])),
        ("contact_sheets", lambda: _check_contact_sheets(root, meta, tables["clips"])),
        ("report/index.html", lambda: _check_report_links(root)),
        ("frames.parquet", lambda: _check_frames(tables["frames"], tables["clips"])),
        ("videos.parquet", lambda: _check_disjoint(tables["videos"])),
    ]
    for name, check in checks:
        problems += _guarded(name, check)
    return problems


def _guarded(name: str, check: Callable[[], list[str]]) -> list[str]:
    """A table or JSON file of the wrong shape (a column or key gone, a wrong type) is a
    problem line, not a traceback."""
    try:
        return check()
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        return [f"{name}: cannot be checked ({type(exc).__name__}: {exc})"]


def _local_file(root: Path, name: str) -> tuple[Path | None, str | None]:
    """`root/name` when it is a regular file inside `root`, else None and why."""
    try:
        path = inside(root, name)
    except ValueError as exc:
        return None, f"{name}: {exc}; not read"
    if not path.exists():
        return None, f"{name}: missing"
    if not path.is_file():
        return None, f"{name}: not a regular file; not read"
    return path, None


def _check_sums(root: Path, progress: Callable[[int, int], None] | None = None) -> list[str]:
    path, problem = _local_file(root, "SHA256SUMS")
    if path is None:
        return [str(problem)]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [f"SHA256SUMS: unreadable ({exc})"]
    outputs = set(output_files(root))
    problems: list[str] = []
    listed: set[str] = set()
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if progress is not None:
            progress(number - 1, len(lines))
        digest, _, name = line.partition("  ")
        if not DIGEST.fullmatch(digest) or not name:
            problems.append(f"SHA256SUMS line {number}: not '<sha256>  <path>'")
            continue
        if name in listed:
            problems.append(f"{name!r}: listed twice in SHA256SUMS")
            continue
        listed.add(name)
        problems += _check_listed(root, name, digest, name in outputs)
    if progress is not None:
        progress(len(lines), len(lines))
    for name in sorted(outputs - listed):
        kind = "a symlink" if (root / name).is_symlink() else "an output file"
        problems.append(f"{name}: {kind} not listed in SHA256SUMS")
    return problems


def _check_listed(root: Path, name: str, digest: str, is_output: bool) -> list[str]:
    try:
        path = inside(root, name)
    except ValueError as exc:
        return [f"{name!r} (SHA256SUMS): {exc}; not read"]
    if not path.exists():
        return [f"{name}: listed in SHA256SUMS but missing"]
    if not path.is_file():
        return [f"{name}: listed in SHA256SUMS but not a regular file"]
    if not is_output:
        return [f"{name}: listed in SHA256SUMS but not a build output"]
    try:
        if sha256_file(path) != digest:
            return [f"{name}: sha256 does not match SHA256SUMS"]
    except OSError as exc:
        return [f"{name}: unreadable ({exc})"]
    return []


def _read_tables(root: Path) -> tuple[dict[str, pd.DataFrame] | None, list[str]]:
    """The four tables, when each is there, of this schema version and readable."""
    problems: list[str] = []
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        file = f"{name}.parquet"
        path, problem = _local_file(root, file)
        if path is None:
            problems.append(str(problem))
            continue
        try:
            found = recorded_version(pq.read_schema(path))
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
            problems.append(f"{file}: unreadable Parquet ({type(exc).__name__}: {exc})")
            continue
        expected = output_version(name)
        if not supports(found, expected):
            problems.append(f"{file}: schema {found or 'none'!r}, expected {expected}")
            continue
        try:  # the footer can parse while data pages are cut or corrupt
            tables[name] = pd.read_parquet(path)
        except Exception as exc:
            problems.append(f"{file}: unreadable Parquet ({type(exc).__name__}: {exc})")
    return (None if problems else tables), problems


def _read_json(root: Path, name: str, problems: list[str]) -> dict[str, Any] | None:
    """The JSON object in `root/name`; None (and a problem when it is there but unreadable)
    when it cannot be read."""
    path, _ = _local_file(root, name)  # a missing file is reported already
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"{name}: unreadable JSON ({exc})")
        return None
    if not isinstance(data, dict):
        problems.append(f"{name}: not a JSON object")
        return None
    return data


def _check_meta(meta: dict[str, Any] | None, stats: dict[str, Any] | None) -> list[str]:
    """build.json names this schema, a config and its hash; stats.json the same hash."""
    if meta is None:
        return []
    problems = []
    if not supports(str(meta.get("schema")), SCHEMA_VERSION):
        problems.append(f"build.json: schema {meta.get('schema')!r}, expected {SCHEMA_VERSION}")
    chash = meta.get("config_hash")
    if not isinstance(chash, str):
        problems.append("build.json: no config_hash")
    elif stats is not None and stats.get("config_hash") != chash:
        problems.append(f"stats.json: config_hash {stats.get('config_hash')!r} != build.json's")
    output = _output_config(meta)
    if output is None:
        problems.append("build.json: no config.output section")
    elif not isinstance(output.get("export"), list):
        problems.append("build.json: config.output.export is not a list")
    return problems


def _output_config(meta: dict[str, Any] | None) -> dict[str, Any] | None:
    config = (meta or {}).get("config")
    output = config.get("output") if isinstance(config, dict) else None
    return output if isinstance(output, dict) else None


def _kept_clips(clips: pd.DataFrame) -> pd.DataFrame:
    """The clips the export writes (export.export_layouts): kept, encoded, with samples."""
    kept = (clips["status"] == "kept") & clips["file"].notna() & (clips["n_sampled"] > 0)
    return clips[kept]


def _check_exports(
    root: Path, meta: dict[str, Any] | None, clips: pd.DataFrame, frames: pd.DataFrame
) -> list[str]:
    """Each export layout build.json records holds exactly the kept clips, named and with
    the frames talkingub.curate.export writes (the bytes are SHA256SUMS's)."""
    from talkingub.curate.export import PRESETS, expected_files

    output = _output_config(meta)
    if output is None:
        return []
    on_disk = set(output_files(root))
    kept = _kept_clips(clips)
    offsets: dict[str, list[int]] | None = None  # None: every frame (export_all_frames)
    if not output.get("export_all_frames"):
        rows = frames[frames["sampled"].eq(True)] if "sampled" in frames else frames.iloc[:0]
        offsets = {
            str(k): sorted(int(i) for i in g.dropna())
            for k, g in rows.groupby("clip_id")["clip_frame"]
        }
    problems: list[str] = []
    names = output.get("export")
    asked = names if isinstance(names, list) else []
    # presets resolved (the build refuses unknown names)
    for layout in dict.fromkeys(PRESETS[n] for n in asked if n in PRESETS):
        prefix = f"export/{layout}/"
        expected: dict[str, set[str]] = {}  # clip entry -> its files
        for clip in kept.to_dict("records"):
            picks = None if offsets is None else offsets.get(clip["clip_id"], [])
            files = expected_files(layout, clip, picks)
            entry = next(iter(files)) if layout == "fomm" else next(iter(files)).rsplit("/", 1)[0]
            expected[entry] = files
        found = {name for name in on_disk if name.startswith(prefix)}
        lines = []
        for entry, files in sorted(expected.items()):
            gone = files - found
            if gone == files:
                lines.append(f"{entry}: missing (a kept clip)")
            elif gone:
                lines.append(f"{entry}: {len(gone)} of {len(files)} files missing")
        wanted = set().union(*expected.values()) if expected else set()
        lines += [f"{name}: exported, but no kept clip" for name in sorted(found - wanted)]
        problems += _capped(lines)
    return problems


def _check_contact_sheets(
    root: Path, meta: dict[str, Any] | None, clips: pd.DataFrame
) -> list[str]:
    output = _output_config(meta)
    if output is None or not output.get("contact_sheets"):
        return []
    on_disk = set(output_files(root))
    wanted = sorted({f"contact_sheets/{vid}.png" for vid in clips["video_id"]})
    return _capped([f"{name}: missing" for name in wanted if name not in on_disk])


def _check_report_links(root: Path, page: str = "report/index.html") -> list[str]:
    """Every image and link of the report page names a file of the build (no URL, nothing
    outside the folder)."""
    path, _ = _local_file(root, page)  # a missing page is reported already
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{page}: unreadable ({exc})"]
    lines = []
    for url in sorted(set(LINK.findall(html.unescape(text)))):
        name = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(url)))
        try:
            ok = inside(root, name).is_file() and "://" not in url
        except ValueError:
            ok = False
        lines += [] if ok else [f"{page}: links {url!r}, not a file of the build"]
    return _capped(lines)


def _check_frames(frames: pd.DataFrame, clips: pd.DataFrame) -> list[str]:
    kept_clips = set(clips.loc[(clips["status"] == "kept") & clips["shard"].notna(), "clip_id"])
    kept = frames[(frames["status"] == "kept") & frames["sampled"].eq(True)]
    orphans = sorted(set(kept["clip_id"]) - kept_clips)
    return [
        f"frames.parquet: kept frames of clip {c}, which is not a sharded kept clip"
        for c in orphans
    ]


def _check_disjoint(videos: pd.DataFrame) -> list[str]:
    kept = videos[videos["split"].notna() & videos["identity"].notna()]
    problems = []
    for column in ("identity", "video_id"):
        splits = kept.groupby(column)["split"].nunique()
        problems += [f"{column} {key!r} is in both splits" for key in splits[splits > 1].index]
    return problems


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    return [*lines[:MAX_LINES], f"... and {len(lines) - MAX_LINES} more like these"]
