"""stats.json, the funnel (Markdown + PNG, set against the paper's counts), contact sheets,
the dataset card (`card.py`) and the HTML report (`html_report.py`)."""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

from talkingub.curate.card import PAPER as PAPER  # Talking-UB's published counts
from talkingub.curate.run_types import BuildRun
from talkingub.curate.sources import licence_summary
from talkingub.io.atomic import atomic_path, atomic_write_text


def funnel_counts(
    videos: list[dict[str, Any]], clips: list[dict[str, Any]], frames: list[dict[str, Any]]
) -> list[tuple[str, int]]:
    kept_clips = [c for c in clips if c["status"] == "kept" and c["n_sampled"] > 0]
    kept_videos = [v for v in videos if v["status"] == "kept"]
    sampled = [f for f in frames if f["sampled"]]
    analysed = [f for f in frames if f["analysed"]]
    return [
        ("input rows", len(videos)),
        ("fetched", sum(v["fetch_status"] == "ok" for v in videos)),
        ("analysed", sum(v["frames"] is not None for v in videos)),
        ("analysed frames", len(analysed)),
        ("analysed frames kept", sum(f["status"] == "kept" for f in analysed)),
        ("segments", len(clips)),
        ("clips kept", len(kept_clips)),
        ("videos kept", len(kept_videos)),
        ("train videos", sum(v["split"] == "train" for v in kept_videos)),
        ("test videos", sum(v["split"] == "test" for v in kept_videos)),
        ("train frames", sum(f["split"] == "train" for f in sampled)),
        ("test frames", sum(f["split"] == "test" for f in sampled)),
    ]


def reasons(rows: list[dict[str, Any]]) -> dict[str, int]:
    return dict(collections.Counter(r["reason"] for r in rows if r.get("reason")).most_common())


def write_reports(
    build: BuildRun,
    videos: list[dict[str, Any]],
    clips: list[dict[str, Any]],
    frames: list[dict[str, Any]],
    meta: dict[str, Any],
) -> list[tuple[str, int]]:
    out = build.out_dir
    funnel = funnel_counts(videos, clips, frames)
    stats = {
        "funnel": dict(funnel),
        "paper": PAPER,
        "video_reasons": reasons(videos),
        "sequence_reasons": reasons(clips),
        "frame_reasons": reasons([f for f in frames if f["analysed"]]),
        "licences": dict(licence_summary(clips)),  # kept clips per manifest license
        "config_hash": meta["config_hash"],
        "provenance": meta["provenance"],
    }
    atomic_write_text(out / "stats.json", json.dumps(stats, indent=2, sort_keys=True))
    atomic_write_text(out / "funnel.md", funnel_markdown(funnel, stats))
    funnel_png(funnel, stats, out / "funnel.png")
    if build.recipe.output.contact_sheets:
        from talkingub.curate.contact import write_contact_sheets

        write_contact_sheets(out, clips)
    from talkingub.curate.card import write_card
    from talkingub.curate.html_report import write_html_report

    write_card(out, videos, clips, build.recipe, meta)  # DATASET_CARD.md
    write_html_report(out, build.recipe, (videos, clips, frames), funnel, stats)  # report/
    return funnel


def funnel_markdown(funnel: list[tuple[str, int]], stats: dict[str, Any]) -> str:
    lines = [
        "# Build funnel",
        "",
        f"config `{stats['config_hash']}`",
        "",
        "| stage | count | Talking-UB (paper) |",
        "|---|---:|---:|",
    ]
    for name, count in funnel:
        paper = PAPER.get(name)
        lines.append(f"| {name} | {count} | {paper if paper is not None else ''} |")
    for title, key in (
        ("Videos", "video_reasons"),
        ("Segments", "sequence_reasons"),
        ("Frames", "frame_reasons"),
    ):
        lines += ["", f"## {title} not kept, by reason", "", "| reason | count |", "|---|---:|"]
        lines += [f"| {r} | {n} |" for r, n in stats[key].items()] or ["| (none) | 0 |"]
    lines += ["", "## Clips kept, by licence", "", "| license | count |", "|---|---:|"]
    licences = stats.get("licences", {}).items()
    lines += [f"| {_cell(name)} | {n} |" for name, n in licences] or ["| (none) | 0 |"]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Free text as one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def funnel_png(funnel: list[tuple[str, int]], stats: dict[str, Any], path: Path) -> Path:
    """Left: counts after every step, the paper's beside them; right: why things were not
    kept (videos, segments, frames by reason)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reason_rows = _reason_rows(stats)
    height = 0.45 * max(len(funnel), len(reason_rows)) + 1.2
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, height))
    _funnel_axis(left, funnel)
    _reasons_axis(right, reason_rows)
    fig.suptitle(f"talkingub build funnel (config {stats['config_hash']})")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path


def _funnel_axis(ax: Any, funnel: list[tuple[str, int]]) -> None:
    names = [n for n, _ in funnel][::-1]
    ours = [max(c, 0) for _, c in funnel][::-1]
    paper = [PAPER.get(n, 0) for n in names]
    rows = range(len(names))
    ax.barh([r + 0.2 for r in rows], ours, height=0.4, color="#4c78a8", label="this build")
    ax.barh([r - 0.2 for r in rows], paper, height=0.4, color="#bab0ac", label="Talking-UB (paper)")
    for row, count, published in zip(rows, ours, paper):
        ax.text(count, row + 0.2, f" {count}", va="center", fontsize=8)
        if published:
            ax.text(published, row - 0.2, f" {published}", va="center", fontsize=8, color="#555")
    ax.set_yticks(list(rows), names)
    ax.set_xscale("symlog")
    ax.set_title("count after each step")
    ax.legend(loc="upper right", fontsize=8)


def _reason_rows(stats: dict[str, Any]) -> list[tuple[str, int]]:
    rows = []
    for level, key in (("video", "video_reasons"), ("segment", "sequence_reasons")):
        rows += [(f"{level}: {reason}", n) for reason, n in stats[key].items()]
    rows += [(f"frame: {reason}", n) for reason, n in stats["frame_reasons"].items()]
    return rows


def _reasons_axis(ax: Any, rows: list[tuple[str, int]]) -> None:
    if not rows:
        ax.text(0.5, 0.5, "nothing rejected", ha="center", va="center")
        ax.set_axis_off()
        return
    labels, counts = [r for r, _ in rows][::-1], [n for _, n in rows][::-1]
    colours = {"video": "#e45756", "segment": "#f58518", "frame": "#72b7b2"}
    bars = ax.barh(labels, counts, color=[colours[lab.split(":")[0]] for lab in labels])
    for bar, count in zip(bars, counts):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {count}", va="center")
    ax.set_xscale("symlog")
    ax.set_title("not kept, by reason")
