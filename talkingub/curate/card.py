"""`DATASET_CARD.md`: what a build holds and how it was made, for the people who use it.

Everything on the card is read from the build's own rows (videos.parquet and clips.parquet
records), its resolved recipe and `build.json`'s metadata: counts by split, the split rule and
the sampling, the manifest's licences, the recipe and its hash, and the known limits. The text
has no time stamp and no absolute path, so the same build gives the same bytes.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from talkingub.config import config_hash, merge, to_dict
from talkingub.curate.config import BuildConfig, default_recipe
from talkingub.curate.sources import NO_LICENCE, licence_summary
from talkingub.io.atomic import atomic_write_text

# Talking-UB as published (PTUS, AAAI 2024, Section "Talking-UB dataset"); the funnel
# (talkingub.curate.report), the card and the HTML report set the build's counts beside them.
PAPER = {"train videos": 180, "test videos": 33, "train frames": 82470, "test frames": 3217}
CARD_NAME = "DATASET_CARD.md"
SPLITS = ("train", "test")
Row = Mapping[str, Any]


def card_path(out: Path) -> Path:
    return out / CARD_NAME


def write_card(
    out: Path,
    videos: Sequence[Row],
    clips: Sequence[Row],
    recipe: BuildConfig,
    meta: Mapping[str, Any],
) -> Path:
    return atomic_write_text(card_path(out), dataset_card(videos, clips, recipe, meta))


def dataset_card(
    videos: Sequence[Row], clips: Sequence[Row], recipe: BuildConfig, meta: Mapping[str, Any]
) -> str:
    """The card's Markdown text."""
    counts = split_counts(videos, clips)
    sections = [
        _title(videos, counts, recipe, meta),
        _counts_section(videos, counts),
        _paper_section(counts),
        _split_section(recipe),
        _sampling_section(recipe),
        _selection_section(recipe),
        _licence_section(clips, videos),
        _recipe_section(recipe, meta),
        _files_section(recipe),
        _limits_section(recipe),
    ]
    return "\n\n".join(s.rstrip("\n") for s in sections) + "\n"


def kept_clips(clips: Iterable[Row]) -> list[Row]:
    """The clips in the shards: kept, with at least one sampled frame."""
    return [c for c in clips if c.get("status") == "kept" and (c.get("n_sampled") or 0) > 0]


def split_counts(videos: Sequence[Row], clips: Sequence[Row]) -> dict[str, dict[str, int]]:
    """Per split (and "total"): kept videos, their identities, kept clips, sampled frames."""
    kept_videos = [v for v in videos if v.get("status") == "kept" and v.get("split") in SPLITS]
    chosen = [c for c in kept_clips(clips) if c.get("split") in SPLITS]
    counts: dict[str, dict[str, int]] = {}
    for split in (*SPLITS, "total"):

        def here(row: Row, split: str = split) -> bool:
            return split == "total" or row.get("split") == split

        counts[split] = {
            "videos": sum(here(v) for v in kept_videos),
            "identities": len({_identity(v) for v in kept_videos if here(v)}),
            "clips": sum(here(c) for c in chosen),
            "frames": sum(int(c.get("n_sampled") or 0) for c in chosen if here(c)),
        }
    return counts


def _identity(row: Row) -> str:
    return str(row.get("identity") or row.get("video_id"))


def _title(
    videos: Sequence[Row], counts: dict[str, dict[str, int]], recipe: BuildConfig, meta: Mapping
) -> str:
    total, side = counts["total"], recipe.crop.output_size
    version = (meta.get("provenance") or {}).get("talkingub", "?")
    return "\n".join(
        [
            "# Dataset card",
            "",
            f"A Talking-UB-style dataset of talking upper bodies built by talkingub {version} "
            f"(config `{meta.get('config_hash', '?')}`): {total['clips']} clips of "
            f"{total['identities']} identities from {total['videos']} of {len(videos)} input "
            f"videos, {total['frames']} sampled frames, {side}x{side} crops in WebDataset shards.",
            "Open `report/index.html` for the funnel, the per-video decisions with their "
            "contact sheets and a gallery of kept crops.",
        ]
    )


def _counts_section(videos: Sequence[Row], counts: dict[str, dict[str, int]]) -> str:
    lines = ["## Counts", "", "| | train | test | total |", "|---|---:|---:|---:|"]
    for key, label in (
        ("videos", "videos kept"),
        ("identities", "identities"),
        ("clips", "clips"),
        ("frames", "sampled frames"),
    ):
        lines.append(
            f"| {label} | " + " | ".join(str(counts[s][key]) for s in (*SPLITS, "total")) + " |"
        )
    status = collections.Counter(str(v.get("status")) for v in videos)
    lines += [
        "",
        f"Input: {len(videos)} manifest rows, "
        f"{sum(v.get('fetch_status') == 'ok' for v in videos)} fetched, "
        f"{sum(v.get('frames') is not None for v in videos)} analysed; "
        + ", ".join(f"{status[s]} {s}" for s in ("kept", "rejected", "failed", "skipped"))
        + ".",
    ]
    reasons = collections.Counter(str(v["reason"]) for v in videos if v.get("reason"))
    if reasons:
        top = ", ".join(f"`{r}` {n}" for r, n in sorted(reasons.items(), key=_most))
        lines.append(f"Videos not kept, by reason: {top}.")
    return "\n".join(lines)


def _most(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])


def _paper_section(counts: dict[str, dict[str, int]]) -> str:
    ours = {f"{s} {k}": counts[s][k] for s in SPLITS for k in ("videos", "frames")}
    lines = [
        "## Beside the published Talking-UB",
        "",
        "| | this build | Talking-UB (PTUS, AAAI 2024) |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {ours[name]} | {paper} |" for name, paper in PAPER.items()]
    lines += [
        "",
        "The paper's source list is not public: this build applies its protocol to another "
        "list, so the counts show scale, not a match.",
    ]
    return "\n".join(lines)


def _split_section(recipe: BuildConfig) -> str:
    s = recipe.split
    return "\n".join(
        [
            "## Split",
            "",
            "Identity-disjoint. Videos are grouped by identity, by source file (same content "
            f"hash) and by near-duplicate content (difference hashes of 8 frames within "
            f"{s.dedup_hamming} of 64 bits); a group is never split. A manifest `split` value "
            "is kept for its whole group; the other groups are ordered by a hash seeded with "
            f"{s.seed} and the first go to test until {s.test_fraction:.1%} of the groups are "
            "test (the paper: 33 of 213 videos). `splits.parquet` lists video, identity and "
            "split; `videos.parquet` `duplicate_of` names the duplicates found.",
        ]
    )


def _sampling_section(recipe: BuildConfig) -> str:
    s = recipe.split
    return "\n".join(
        [
            "## Sampling",
            "",
            f"- train: every kept clip sampled at {s.train_fps:g} fps;",
            f"- test: the first {s.test_frames} frames of each test video (its kept clips in "
            "order).",
            "",
            "The sampled frames are the `sampled` rows of `frames.parquet` and each shard "
            "sample's `sampled_frames`; the shards hold every frame of a kept clip.",
        ]
    )


def _selection_section(recipe: BuildConfig) -> str:
    f, c = recipe.filters, recipe.crop
    return "\n".join(
        [
            "## Selection",
            "",
            f"- face height between {f.face_ratio_min:.3g} and {f.face_ratio_max:.3g} of the "
            "upper-body height (face ratio);",
            f"- upper body in view: both shoulders in the frame and at least {f.min_torso:g} "
            "face heights of torso below them;",
            f"- at most {f.max_people} person; a sharp face (variance of the Laplacian "
            f">= {f.min_sharpness:g});",
            f"- almost constant background (step <= {f.bg_max_step:g}, drift <= "
            f"{f.bg_max_drift:g} grey levels); clips of at least {f.min_seconds:g} s;",
            f"- one static square crop per clip, never upscaled, resized to "
            f"{c.output_size}x{c.output_size}.",
        ]
    )


def _licence_section(clips: Sequence[Row], videos: Sequence[Row]) -> str:
    per_clip = licence_summary(clips)
    per_video = collections.Counter(
        str(v.get("license") or NO_LICENCE).strip() or NO_LICENCE
        for v in videos
        if v.get("status") == "kept"
    )
    lines = [
        "## Licences",
        "",
        "The manifest's `license` column, as written there (talkingub does not check it): "
        "check each source's terms before you share or train on it.",
        "",
        "| license | kept clips | kept videos |",
        "|---|---:|---:|",
    ]
    lines += [f"| {_cell(name)} | {n} | {per_video.get(name, 0)} |" for name, n in per_clip]
    if not per_clip:
        lines.append("| (no kept clips) | 0 | 0 |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _recipe_section(recipe: BuildConfig, meta: Mapping[str, Any]) -> str:
    chash = meta.get("config_hash") or config_hash(recipe)
    changed = recipe_changes(recipe)
    if not changed:
        origin = "the shipped Talking-UB recipe (`talkingub/presets/recipes/talking-ub.yaml`)"
    else:
        origin = "the shipped Talking-UB recipe with these settings changed:"
    lines = ["## Recipe", "", f"Built with {origin}"]
    if changed:
        lines += [""] + [f"- `{key}`: {new!r} (shipped: {old!r})" for key, new, old in changed]
    prov = meta.get("provenance") or {}
    backends = ", ".join(prov.get("analysis_backends") or []) or "none (nothing analysed)"
    lines += [
        "",
        f"- config hash: `{chash}` (also in `build.json`, `stats.json` and every shard sample)",
        f"- talkingub {prov.get('talkingub', '?')}; analysis backend: {backends}",
        "- the full resolved recipe and the library versions are in `build.json`; "
        "`talkingub refilter` re-decides with other thresholds.",
    ]
    return "\n".join(lines)


def recipe_changes(recipe: BuildConfig) -> list[tuple[str, Any, Any]]:
    """(dotted key, this recipe's value, the shipped recipe's value) where they differ."""
    shipped = _flat(to_dict(merge(BuildConfig, default_recipe(), {})))
    ours = _flat(to_dict(recipe))
    return [
        (k, ours.get(k), shipped.get(k))
        for k in sorted(set(ours) | set(shipped))
        if ours.get(k) != shipped.get(k)
    ]


def _flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flat(value, name + "."))
        else:
            flat[name] = list(value) if isinstance(value, tuple) else value
    return flat


def _files_section(recipe: BuildConfig) -> str:
    sheets = (
        "`contact_sheets/<video>.png` (one tile per segment and its decision)"
        if recipe.output.contact_sheets
        else "no contact sheets (`output.contact_sheets: false`)"
    )
    exports = ", ".join(f"`export/{name}/`" for name in recipe.output.export) or "no export"
    return "\n".join(
        [
            "## Files",
            "",
            "- `shards/{train,test}-NNNNN.tar`: WebDataset, one sample per clip (`mp4` + `json`)",
            "- `videos.parquet`, `clips.parquet`, `frames.parquet`, `splits.parquet`: every "
            "decision with its reason and every score",
            f"- `funnel.md`, `funnel.png`, `stats.json`, `report/index.html`; {sheets}",
            f"- training-code layouts: {exports}",
            "- `SHA256SUMS`: run `talkingub verify` on the folder to check it",
        ]
    )


def _limits_section(recipe: BuildConfig) -> str:
    a = recipe.analysis
    return "\n".join(
        [
            "## Known limits",
            "",
            f"- The paper measures people with a human-parsing network (Graphonomy); this "
            f"build used the `{a.backend}` analysis backend (face, pose and person-mask "
            "detectors) instead, so face and upper-body heights, and the face-ratio "
            "window built on them, select a similar but not the same set of frames.",
            "- The upper-body gate (torso below the shoulders), the background-constancy "
            "measure and the face-height definition are this toolkit's: the paper does "
            "not define them. Every threshold is in the recipe.",
            f"- Detection runs on {a.sample_fps:g} analysed frames per second (pose on one in "
            f"{a.pose_every} of them); a frame in between takes the measurements of the "
            "analysed frame before it, so a short event between two analysed frames can be "
            "missed.",
            "- Duplicates are found from 8 difference hashes per video: a re-upload that is "
            "re-cut, cropped or mirrored can escape them; only its identity then keeps it in "
            "the same split.",
            "- Identities are the manifest's `identity` column; nothing checks that two "
            "names are two people.",
            "- Licences are the manifest's free text, copied, not verified.",
        ]
    )
