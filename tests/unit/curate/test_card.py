"""DATASET_CARD.md from small hand-made rows: counts by split, identities, licences, the
split and sampling settings read from the recipe, the recipe's changes and hash, the limits."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from talkingub.config import config_hash
from talkingub.curate.card import dataset_card, recipe_changes, split_counts
from talkingub.curate.config import BuildConfig
from talkingub.curate.report import PAPER

VIDEOS: list[dict[str, Any]] = [
    {"video_id": "a1", "identity": "ann", "split": "train", "status": "kept", "license": "CC BY"},
    {"video_id": "a2", "identity": "ann", "split": "train", "status": "kept", "license": "CC BY"},
    {"video_id": "b1", "identity": "bob", "split": "train", "status": "kept", "license": None},
    {"video_id": "c1", "identity": "cat", "split": "test", "status": "kept", "license": "CC0"},
    {"video_id": "d1", "identity": "dan", "split": "test", "status": "rejected",
     "reason": "face_ratio_low", "license": "CC0"},
    {"video_id": "e1", "identity": "eve", "split": None, "status": "failed",
     "reason": "download_failed", "fetch_status": "failed"},
]  # fmt: skip
for row in VIDEOS:
    row.setdefault("fetch_status", "ok")
    row.setdefault("frames", None if row["status"] == "failed" else 300)


def clip(vid: str, split: str, n_sampled: int, status: str = "kept", **extra: Any) -> dict:
    identity = next(v["identity"] for v in VIDEOS if v["video_id"] == vid)
    licence = next(v["license"] for v in VIDEOS if v["video_id"] == vid)
    row = {"video_id": vid, "identity": identity, "split": split, "status": status}
    return {**row, "n_sampled": n_sampled, "license": licence, **extra}


CLIPS = [
    clip("a1", "train", 12),
    clip("a1", "train", 9),
    clip("a2", "train", 6),
    clip("a2", "train", 0),  # kept but nothing sampled: not in the shards
    clip("b1", "train", 15),
    clip("b1", "train", 0, status="rejected", reason="too_short"),
    clip("c1", "test", 100),
    clip("d1", "test", 0, status="rejected", reason="face_ratio_low"),
]
META = {"config_hash": "abc123def456", "provenance": {"talkingub": "9.9.9",
        "analysis_backends": ["mediapipe 0.10.14"]}}  # fmt: skip


def count_row(text: str, label: str) -> list[int]:
    match = re.search(rf"^\| {re.escape(label)} \| (\d+) \| (\d+) \| (\d+) \|$", text, re.M)
    assert match, f"no counts row {label!r} in:\n{text}"
    return [int(g) for g in match.groups()]


def test_counts_by_split_come_from_the_rows() -> None:
    text = dataset_card(VIDEOS, CLIPS, BuildConfig(), META)
    assert count_row(text, "videos kept") == [3, 1, 4]
    assert count_row(text, "identities") == [2, 1, 3]  # ann (2 videos) and bob; cat
    assert count_row(text, "clips") == [4, 1, 5]  # kept with sampled frames only
    assert count_row(text, "sampled frames") == [42, 100, 142]
    assert "Input: 6 manifest rows, 5 fetched, 5 analysed; 4 kept, 1 rejected, 1 failed" in text
    assert split_counts(VIDEOS, CLIPS)["total"]["frames"] == 142


def test_paper_counts_stand_beside_ours() -> None:
    text = dataset_card(VIDEOS, CLIPS, BuildConfig(), META)
    for name, published in PAPER.items():
        assert re.search(rf"^\| {name} \| \d+ \| {published} \|$", text, re.M), name
    assert "| train videos | 3 | 180 |" in text and "| test frames | 100 | 3217 |" in text


def test_licences_count_kept_clips_and_videos_per_manifest_value() -> None:
    text = dataset_card(VIDEOS, CLIPS, BuildConfig(), META)
    section = text.split("## Licences", 1)[1].split("\n## ", 1)[0]
    assert "| CC BY | 3 | 2 |" in section
    assert "| (none) | 1 | 1 |" in section
    assert "| CC0 | 1 | 1 |" in section  # d1 (CC0) was rejected: not counted
    assert section.index("CC BY") < section.index("(none)")  # most clips first


def test_split_and_sampling_are_read_from_the_recipe() -> None:
    recipe = BuildConfig()
    recipe = dataclasses.replace(
        recipe,
        split=dataclasses.replace(recipe.split, train_fps=5.0, test_frames=40, seed=7),
    )
    text = dataset_card(VIDEOS, CLIPS, recipe, META)
    assert "- train: every kept clip sampled at 5 fps" in text
    assert "- test: the first 40 frames of each test video" in text
    assert "hash seeded with 7" in text
    default = dataset_card(VIDEOS, CLIPS, BuildConfig(), META)
    assert "sampled at 3 fps" in default and "the first 100 frames" in default


def test_recipe_names_its_changes_and_hash() -> None:
    shipped = dataset_card(VIDEOS, CLIPS, BuildConfig(), META)
    assert "Built with the shipped Talking-UB recipe (`talkingub/presets" in shipped
    assert "config hash: `abc123def456`" in shipped
    assert "talkingub 9.9.9; analysis backend: mediapipe 0.10.14" in shipped
    recipe = BuildConfig()
    recipe = dataclasses.replace(
        recipe, filters=dataclasses.replace(recipe.filters, min_torso=0.15)
    )
    assert recipe_changes(recipe) == [("filters.min_torso", 0.15, 0.4)]
    changed = dataset_card(VIDEOS, CLIPS, recipe, {**META, "config_hash": config_hash(recipe)})
    assert "- `filters.min_torso`: 0.15 (shipped: 0.4)" in changed
    assert f"config hash: `{config_hash(recipe)}`" in changed
    assert "at least 0.15 face heights of torso" in changed


def test_known_limits_and_stable_text() -> None:
    text = dataset_card(VIDEOS, CLIPS, BuildConfig(), META)
    limits = text.split("## Known limits", 1)[1]
    assert "Graphonomy" in limits and "`mediapipe` analysis backend" in limits
    assert "3 analysed frames per second" in limits
    assert "256x256 crops" in text.split("\n## ", 1)[0]
    assert text == dataset_card(VIDEOS, CLIPS, BuildConfig(), META)
    assert "/tmp" not in text and text.endswith("\n")


def test_an_empty_build_still_has_a_card() -> None:
    text = dataset_card([], [], BuildConfig(), {"config_hash": "x", "provenance": {}})
    assert count_row(text, "clips") == [0, 0, 0]
    assert "| (no kept clips) | 0 | 0 |" in text
    assert "analysis backend: none" in text
