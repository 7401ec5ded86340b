"""`report/index.html` and its files from hand-made rows and synthetic clips (no detector, no
peer media): opened in headless Chromium without a console error, every image loaded, with or
without contact sheets; the gallery's choice and cap; the histograms' stacks; what `verify`
says of the page's links."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from talkingub.curate.config import BuildConfig
from talkingub.curate.gallery import shown_clips
from talkingub.curate.html_report import page_path, report_files, stale_report_files
from talkingub.curate.report import write_reports
from talkingub.curate.report_figures import histograms, stacks
from talkingub.curate.run_types import BuildRun
from talkingub.curate.verify import _check_report_links
from talkingub.io.outdir import Ledger
from tests.support.browser import check_page
from tests.support.media import write_video

Row = dict[str, Any]
KEPT = {"v1": "train", "v2": "test"}  # videos with a kept clip; v3 is rejected


def _clip(vid: str, split: str, kept: bool) -> Row:
    return {
        "clip_id": f"{vid}-s000-f000000",
        "video_id": vid,
        "identity": f"id-{vid}",
        "split": split,
        "start": 0,
        "end": 12,
        "seconds": 0.5,
        "status": "kept" if kept else "rejected",
        "reason": None if kept else "face_ratio_low",
        "n_sampled": 3 if kept else 0,
        "file": f"{vid}-s000-f000000-abc.mp4" if kept else None,
        "crop_norm": [0.1, 0.1, 0.5, 0.9],
        "score_face_ratio_median": 0.45 if kept else 0.2,
        "license": "CC BY 4.0" if kept else None,
    }


def _frames(clip: Row) -> list[Row]:
    kept = clip["status"] == "kept"
    rows = []
    for i in range(6):
        ratio, sharp = (0.4 + 0.03 * i, 60.0 + 10 * i) if kept else (0.2, 8.0 + i)
        rows.append(
            {
                "analysed": True,
                "sampled": kept and i < 3,
                "clip_id": clip["clip_id"],
                "clip_frame": i if kept and i < 3 else None,
                "split": clip["split"],
                "status": clip["status"],
                "reason": clip["reason"],
                "gate": None if kept else "face_ratio_low",
                "face_ratio": ratio,
                "sharpness": sharp,
                "face_box_crop": [0.3, 0.1, 0.7, 0.5],
            }
        )
    return rows


def _video(vid: str, split: str, kept: bool) -> Row:
    return {
        "video_id": vid,
        "identity": f"id-{vid}",
        "split": split,
        "fetch_status": "ok",
        "frames": 12,
        "status": "kept" if kept else "rejected",
        "reason": None if kept else "face_ratio_low",
        "detail": None,
        "n_sequences": 1,
        "n_clips_kept": int(kept),
        "n_frames_kept": 3 if kept else 0,
        "license": "CC BY 4.0" if kept else None,
    }


def fake_build(out: Path, contact_sheets: bool = True, missing_clip: str = "") -> BuildConfig:
    """Rows of three videos (two kept), their encoded clips, and every report written."""
    recipe = BuildConfig()
    recipe = dataclasses.replace(
        recipe, output=dataclasses.replace(recipe.output, contact_sheets=contact_sheets)
    )
    splits = {**KEPT, "v3": "train"}
    videos = [_video(v, s, v in KEPT) for v, s in splits.items()]
    clips = [_clip(v, s, v in KEPT) for v, s in splits.items()]
    frames = [row for c in clips for row in _frames(c)]
    for clip in clips:
        if clip["file"] and clip["video_id"] != missing_clip:
            folder = out / "work" / clip["video_id"] / "clips"
            folder.mkdir(parents=True)
            colour = np.full((256, 256, 3), (40, 120, 200), np.uint8)
            write_video(folder / clip["file"], [colour] * 12)
    meta = {"config_hash": "feedbeef0123", "provenance": {"talkingub": "0.0-test"}}
    write_reports(BuildRun(out_dir=out, recipe=recipe), videos, clips, frames, meta)
    for name in ("build.json", "SHA256SUMS"):  # output.py writes these: the page links them
        (out / name).write_text("{}")
    return recipe


def test_page_opens_clean_with_every_image(tmp_path: Path) -> None:
    out = tmp_path / "out"
    fake_build(out)
    html = page_path(out).read_text()
    report = check_page(page_path(out), tmp_path / "report.png")
    report.assert_clean()
    # funnel + 2 histograms + 2 gallery crops + 3 contact sheets
    assert (report.n_images, report.n_videos) == (8, 0)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert html.count('src="../contact_sheets/') == 3
    assert html.count('src="gallery/') == 2
    assert 'href="#sheet-2"' in html and '<div id="sheet-2">' in html  # inside its <details>
    assert "CC BY 4.0" in html and "face_ratio_low" in html
    assert (out / "DATASET_CARD.md").is_file()
    assert _check_report_links(out) == []


def test_without_contact_sheets_the_page_says_so(tmp_path: Path) -> None:
    out = tmp_path / "out"
    fake_build(out, contact_sheets=False)
    html = page_path(out).read_text()
    assert "Contact sheets are off" in html and "contact_sheets/" not in html
    assert not (out / "contact_sheets").exists()
    report = check_page(page_path(out), tmp_path / "no-sheets.png")
    report.assert_clean()
    assert report.n_images == 5


def test_a_clip_that_cannot_be_decoded_is_left_out(tmp_path: Path) -> None:
    out = tmp_path / "out"
    fake_build(out, missing_clip="v2")
    html = page_path(out).read_text()
    assert html.count('src="gallery/') == 1
    assert "The first sampled frame of 1 of the 2 kept clips" in html
    assert sorted(p.name for p in (out / "report" / "gallery").iterdir()) == ["v1-s000-f000000.jpg"]


def test_report_files_are_what_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    recipe = fake_build(out)
    clips = [_clip(v, s, True) for v, s in KEPT.items()]
    planned = {p.relative_to(out).as_posix() for p in report_files(out, clips, recipe)}
    written = {p.relative_to(out).as_posix() for p in (out / "report").rglob("*") if p.is_file()}
    assert planned == written


def test_gallery_takes_each_video_in_turn_up_to_the_cap() -> None:
    clips = []
    for vid, count in (("b", 1), ("a", 5), ("c", 3)):
        for n in range(count):
            clip = _clip(vid, "train", True)
            clips.append({**clip, "clip_id": f"{vid}{n}", "start": 100 * n})
    clips.append({**_clip("d", "train", False), "clip_id": "d0"})
    shown = [c["clip_id"] for c in shown_clips(clips, limit=6)]
    assert shown == ["a0", "b0", "c0", "a1", "c1", "a2"]
    assert len(shown_clips(clips)) == 9


def test_histogram_stacks_kept_gate_and_other() -> None:
    spec = histograms(BuildConfig().filters)["face_ratio.png"]
    rows = [
        {"status": "kept", "face_ratio": 0.5},
        {"status": "rejected", "gate": "face_ratio_low", "face_ratio": 0.2},
        {"status": "rejected", "gate": "face_ratio_high", "face_ratio": 0.9},
        {"status": "rejected", "gate": "too_short", "face_ratio": 0.5},
        {"status": "rejected", "gate": "no_face", "face_ratio": None},
    ]
    groups, missing = stacks(rows, spec)
    assert [g.tolist() for g in groups] == [[0.5], [0.2, 0.9], [0.5]]
    assert missing == 1


def test_stale_gallery_entries_are_the_ledgers_only(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    old, kept = tmp_path / "report/gallery/old.jpg", tmp_path / "report/gallery/kept.jpg"
    ledger.claim([old, kept])
    assert stale_report_files(ledger, [kept]) == ["report/gallery/old.jpg"]


@pytest.mark.parametrize(
    ("src", "problem"),
    [("../funnel.png", False), ("../gone.png", True), ("https://cdn.example/x.png", True)],
)
def test_verify_checks_every_link_of_the_page(tmp_path: Path, src: str, problem: bool) -> None:
    (tmp_path / "report").mkdir()
    (tmp_path / "funnel.png").write_bytes(b"png")
    page = f'<img src="{src}"><a href="#videos">v</a><a href="../funnel.png">f</a>'
    (tmp_path / "report" / "index.html").write_text(page)
    found = _check_report_links(tmp_path)
    assert bool(found) == problem, found
    assert all(re.match(r"report/index.html: links '", line) for line in found)
