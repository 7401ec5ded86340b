"""`report/index.html`: the build at a glance, as one static page (no server, no CDN, no
script): the funnel beside the paper's counts, histograms of face ratio and sharpness with the
recipe's thresholds, a gallery of kept crops, every video's decision with its contact sheet,
and the licences. Images are files next to it (`report/*.png`, `report/gallery/*.jpg`) or in
the build (`funnel.png`, `contact_sheets/`), linked by relative URLs, so the folder can be
moved, copied or served as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from talkingub.curate.card import CARD_NAME, PAPER, split_counts
from talkingub.curate.config import BuildConfig
from talkingub.curate.contact import sheet_path
from talkingub.curate.gallery import (
    GALLERY_MAX,
    GalleryItem,
    gallery_paths,
    kept_count,
    write_gallery,
)
from talkingub.curate.report_figures import histograms, write_histograms
from talkingub.curate.sources import NO_LICENCE, licence_summary
from talkingub.io import html as h
from talkingub.io.outdir import Ledger

Row = dict[str, Any]
REPORT_DIR = "report"
PAGE_NAME = "index.html"
OPEN_SHEETS = 6  # contact sheets shown open when the build has at most this many
STYLE = """
.kept { color: #2a7a2a; font-weight: 600; } .rejected { color: #b83a3a; }
.failed, .skipped { color: #8a6d00; }
.figures img { border: 1px solid #ddd; }
.gallery figcaption { max-width: 160px; } .figures figcaption { max-width: none; }
#videos td, #videos th { text-align: left; }
#videos td:nth-child(n+6):nth-child(-n+8) { text-align: right; }
"""


def page_path(out: Path) -> Path:
    return out / REPORT_DIR / PAGE_NAME


def report_files(out: Path, clips: Sequence[Row], recipe: BuildConfig) -> list[Path]:
    """Every file `write_html_report` writes (before it writes them: the ledger's claim)."""
    folder = out / REPORT_DIR
    figures = [folder / name for name in histograms(recipe.filters)]
    return [page_path(out), *figures, *gallery_paths(out, clips)]


def write_html_report(
    out: Path,
    recipe: BuildConfig,
    tables: tuple[Sequence[Row], Sequence[Row], Sequence[Row]],
    funnel: list[tuple[str, int]],
    stats: dict[str, Any],
) -> Path:
    videos, clips, frames = tables
    folder = out / REPORT_DIR
    figures = write_histograms(folder, frames, recipe.filters)
    shown = write_gallery(out, clips, frames)
    parts = [
        _summary(videos, clips),
        _funnel_section(out, funnel),
        _figures_section(figures, folder, recipe),
        _gallery_section(shown, folder, clips),
        _videos_section(out, videos, clips, recipe),
        _sheets_section(out, videos, clips, recipe),
        _licence_section(clips),
    ]
    version = (stats.get("provenance") or {}).get("talkingub", "?")
    subtitle = f"talkingub {version} · config {stats.get('config_hash', '?')}"
    content = h.page("Talking-UB build report", parts, subtitle=subtitle, style=STYLE)
    return h.write_page(page_path(out), content)


def stale_report_files(ledger: Ledger, keep: Sequence[Path]) -> list[str]:
    """Ledger entries under report/ that this run does not write (a gallery thumbnail of a
    clip no longer kept or shown): only files the build wrote, so only those are deleted."""
    wanted = {ledger.relative(p) for p in keep}
    return [name for name in ledger.under(REPORT_DIR) if name not in wanted]


def _src(target: Path, out: Path) -> str:
    return h.relative_src(target, out / REPORT_DIR)


def _summary(videos: Sequence[Row], clips: Sequence[Row]) -> str:
    counts = split_counts(videos, clips)
    rows: list[list[h.Cell]] = [
        [label, *(counts[s][key] for s in ("train", "test", "total"))]
        for key, label in (
            ("videos", "videos kept"),
            ("identities", "identities"),
            ("clips", "clips"),
            ("frames", "sampled frames"),
        )
    ]
    links = ", ".join(
        h.link(f"../{name}", name)
        for name in (CARD_NAME, "funnel.md", "stats.json", "build.json", "SHA256SUMS")
    )
    return h.section(
        "Summary",
        h.paragraph(f"{len(videos)} input videos; the dataset:"),
        h.table(["", "train", "test", "total"], rows),
        h.Raw(f"<p>Read the dataset card first: {links}.</p>"),
        anchor="summary",
    )


def _funnel_section(out: Path, funnel: list[tuple[str, int]]) -> str:
    rows = [[name, count, PAPER.get(name)] for name, count in funnel]
    return h.section(
        "Funnel",
        h.image(_src(out / "funnel.png", out), "counts after every step, and reasons"),
        h.details("the counts as a table", h.table(["step", "this build", "paper"], rows)),
        anchor="funnel",
    )


def _figures_section(figures: list[Path], folder: Path, recipe: BuildConfig) -> str:
    f = recipe.filters
    note = (
        f"Every analysed frame with the measure, stacked: kept, failed the gate itself, or not "
        f"kept for another reason (an earlier gate, or its segment). Dashed lines: the "
        f"recipe's thresholds (face ratio {f.face_ratio_min:.3g}-{f.face_ratio_max:.3g}, "
        f"sharpness >= {f.min_sharpness:g})."
    )
    shown = [
        h.figure(h.image(h.relative_src(p, folder), p.stem), f"report/{p.name}") for p in figures
    ]
    return h.section(
        "Face ratio and sharpness",
        h.paragraph(note),
        h.Raw(f'<div class="figures">{h.gallery(shown)}</div>'),
        anchor="histograms",
    )


def _gallery_section(items: list[GalleryItem], folder: Path, clips: Sequence[Row]) -> str:
    total = kept_count(clips)
    if not items:
        return h.section("Kept crops", h.paragraph("No kept clip to show."), anchor="gallery")
    note = (
        f"The first sampled frame of {len(items)} of the {total} kept clips"
        + (
            f" (at most {GALLERY_MAX}, taken in turn from each kept video)"
            if len(items) < total
            else ""
        )
        + ", as the shards hold it; yellow: the face box of the sample's JSON."
    )
    shown = [
        h.figure(
            h.image(h.relative_src(item.path, folder), str(item.clip["clip_id"]), width=160),
            _caption(item.clip),
        )
        for item in items
    ]
    return h.section(
        "Kept crops",
        h.paragraph(note, cls="note" if len(items) < total else None),
        h.gallery(shown),
        anchor="gallery",
    )


def _caption(clip: Row) -> str:
    ratio = clip.get("score_face_ratio_median")
    measure = f", face ratio {ratio:.2f}" if ratio is not None else ""
    return (
        f"{clip['clip_id']} · {clip.get('identity')} · {clip.get('split')} · "
        f"{clip.get('n_sampled')} frames, {float(clip.get('seconds') or 0):.1f} s{measure}"
    )


def _videos_section(
    out: Path, videos: Sequence[Row], clips: Sequence[Row], recipe: BuildConfig
) -> str:
    with_sheet = _sheet_videos(videos, clips) if recipe.output.contact_sheets else []
    anchors = {vid: f"sheet-{i}" for i, vid in enumerate(with_sheet)}
    rows = []
    for v in videos:
        vid = str(v["video_id"])
        if vid in anchors:
            sheet: h.Cell = h.link(f"#{anchors[vid]}", "sheet")
        else:
            sheet = "off" if not recipe.output.contact_sheets else ""
        rows.append(
            [
                vid,
                v.get("identity"),
                v.get("split"),
                h.Raw(f'<span class="{h.esc(v.get("status"))}">{h.esc(v.get("status"))}</span>'),
                h.Raw(f'<span title="{h.esc(v.get("detail"))}">{h.esc(v.get("reason"))}</span>'),
                v.get("n_sequences"),
                v.get("n_clips_kept"),
                v.get("n_frames_kept"),
                v.get("license") or NO_LICENCE,
                sheet,
            ]
        )
    header = ["video", "identity", "split", "status", "reason", "segments"]
    header += ["kept clips", "kept frames", "license", "contact sheet"]
    return h.section("Videos", h.table(header, rows), anchor="videos")


def _sheet_videos(videos: Sequence[Row], clips: Sequence[Row]) -> list[str]:
    """Videos with a contact sheet (those with segments), in the videos table's order."""
    segmented = {str(c["video_id"]) for c in clips}
    return [str(v["video_id"]) for v in videos if str(v["video_id"]) in segmented]


def _sheets_section(
    out: Path, videos: Sequence[Row], clips: Sequence[Row], recipe: BuildConfig
) -> str:
    if not recipe.output.contact_sheets:
        text = "Contact sheets are off in this build's recipe (output.contact_sheets: false)."
        return h.section("Contact sheets", h.paragraph(text, cls="note"), anchor="sheets")
    status = {str(v["video_id"]): v.get("status") for v in videos}
    names = _sheet_videos(videos, clips)
    opened = len(names) <= OPEN_SHEETS
    parts = [  # the anchor inside <details>: following a link to it opens the sheet
        h.details(
            f"{vid} ({status.get(vid)})",
            h.Raw(f'<div id="sheet-{i}">')
            + h.image(_src(sheet_path(out, vid), out), f"contact sheet of {vid}")
            + "</div>",
            opened=opened,
        )
        for i, vid in enumerate(names)
    ]
    intro = (
        "One tile per segment: a frame with the crop box, the crop, and the decision "
        "(green kept, red rejected with its reason)."
    )
    if not names:
        intro = "No video reached segmentation: no contact sheet."
    return h.section("Contact sheets", h.paragraph(intro), *parts, anchor="sheets")


def _licence_section(clips: Sequence[Row]) -> str:
    rows: list[list[h.Cell]] = [[name, n] for name, n in licence_summary(clips)]
    return h.section(
        "Licences",
        h.paragraph(
            "Kept clips per value of the manifest's license column (free text, not checked)."
        ),
        h.table(["license", "kept clips"], rows or [["(no kept clips)", 0]]),
        anchor="licences",
    )
