"""A real build's DATASET_CARD.md and report/index.html (the shared small build of real peer
clips, default recipe): the card's counts, licences and recipe match the tables and build.json;
the page opens in headless Chromium without a console error, every image loads (screenshot in
the test's temp folder), and it shows each video, each contact sheet and the kept crops."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from talkingub.curate.card import CARD_NAME
from talkingub.curate.gallery import GALLERY_MAX
from talkingub.curate.html_report import page_path
from tests.support.browser import check_page

pytestmark = pytest.mark.slow


def tables(out: Path) -> dict[str, pd.DataFrame]:
    return {n: pd.read_parquet(out / f"{n}.parquet") for n in ("videos", "clips", "frames")}


def count_row(text: str, label: str) -> list[int]:
    match = re.search(rf"^\| {re.escape(label)} \| (\d+) \| (\d+) \| (\d+) \|$", text, re.M)
    assert match, f"no counts row {label!r}"
    return [int(g) for g in match.groups()]


def by_split(values: pd.Series, splits: pd.Series) -> list[int]:
    return [int(values[splits == s].sum()) for s in ("train", "test")] + [int(values.sum())]


def test_card_counts_match_the_tables(small_build: Path) -> None:
    text = (small_build / CARD_NAME).read_text()
    t = tables(small_build)
    videos, clips, frames = t["videos"], t["clips"], t["frames"]
    kept_videos = videos[videos["status"] == "kept"]
    kept_clips = clips[(clips["status"] == "kept") & (clips["n_sampled"] > 0)]
    sampled = frames[frames["sampled"].eq(True)]
    assert len(kept_clips) > 0  # the chest-up presenter is kept with the default recipe
    ones = pd.Series(1, index=kept_videos.index)
    assert count_row(text, "videos kept") == by_split(ones, kept_videos["split"])
    ids = [kept_videos[kept_videos["split"] == s]["identity"].nunique() for s in ("train", "test")]
    assert count_row(text, "identities") == [*ids, kept_videos["identity"].nunique()]
    clip_ones = pd.Series(1, index=kept_clips.index)
    assert count_row(text, "clips") == by_split(clip_ones, kept_clips["split"])
    frame_ones = pd.Series(1, index=sampled.index)
    assert count_row(text, "sampled frames") == by_split(frame_ones, sampled["split"])
    assert f"Input: {len(videos)} manifest rows" in text


def test_card_names_licences_and_recipe_of_the_build(small_build: Path) -> None:
    text = (small_build / CARD_NAME).read_text()
    meta = json.loads((small_build / "build.json").read_text())
    stats = json.loads((small_build / "stats.json").read_text())
    assert f"config hash: `{meta['config_hash']}`" in text
    assert "Built with the shipped Talking-UB recipe (" in text  # the default recipe
    for licence, count in stats["licences"].items():
        assert re.search(rf"^\| {re.escape(licence)} \| {count} \| \d+ \|$", text, re.M)
    for backend in meta["provenance"]["analysis_backends"]:
        assert backend in text
    assert "## Known limits" in text and str(small_build) not in text


def test_report_page_opens_clean_with_every_image(small_build: Path, tmp_path: Path) -> None:
    page = page_path(small_build)
    html = page.read_text()
    t = tables(small_build)
    clips = t["clips"]
    n_kept = int(((clips["status"] == "kept") & (clips["n_sampled"] > 0)).sum())
    n_sheets = clips["video_id"].nunique()  # one contact sheet per video with segments
    gallery = sorted((small_build / "report" / "gallery").glob("*.jpg"))
    assert len(gallery) == min(n_kept, GALLERY_MAX)
    report = check_page(page, tmp_path / "report.png")
    report.assert_clean()
    assert report.n_images == 1 + 2 + len(gallery) + n_sheets  # funnel, histograms
    assert report.n_videos == 0
    assert (tmp_path / "report.png").stat().st_size > 50_000
    for vid in t["videos"]["video_id"]:
        assert f"<td>{vid}</td>" in html
    assert html.count('src="../contact_sheets/') == n_sheets
    assert "http://" not in html and "https://" not in html  # no CDN, nothing remote
