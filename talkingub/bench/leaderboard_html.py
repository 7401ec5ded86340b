"""The leaderboard as one static page: `OUT/report/leaderboard.html` (`talkingub bench table`).

It shows what `leaderboard.md` shows, from the same cells (`leaderboard_rows`,
`reference_rows`, `paper_tables`): the build(s) the numbers are on, our table (metric
directions ↑/↓ in the headers, mean ± 95% interval over the seeds, the best of the methods in
bold), the reference rows and the published weights evaluated zero-shot in blocks of their own
(never ranked; `leaderboard_zero_shot`), and the paper's Tables 1/3/4
with the citation; then the figures `talkingub.bench.figures` wrote in `OUT/tables/`: every bar
chart (`bars*.png`) and every grid video (`grids/<item>.mp4`, playing inline, muted and looped,
captioned with its item and its columns from the `.txt` beside it). Media and the table files
are linked relative to the page (no script, no server, no CDN): it opens from disk and keeps
working when the bench folder moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from talkingub.bench import leaderboard_tracks as T
from talkingub.bench import leaderboard_zero_shot as Z
from talkingub.bench.build_ref import UNKNOWN, BuildGroup
from talkingub.bench.leaderboard import (
    REFERENCES_NOTE,
    REFERENCES_TITLE,
    TASK_LABEL,
    TIMING_NOTE,
    Tables,
    _columns,
    _stack,
    leaderboard_rows,
    load_summaries,
    paper_tables,
    reference_rows,
)
from talkingub.bench.leaderboard_builds import UNKNOWN_NOTE
from talkingub.bench.zero_shot import eval_dirs as zero_shot_dirs
from talkingub.io import html as H

REPORT_DIR = "report"
PAGE_NAME = "leaderboard.html"
GRIDS_DIR = "grids"
AVERAGING = {
    "frame": "each method's value weighs the videos by their scored frames",
    "video": "each method's value is the mean of its per-video values",
}
# this page's rules, after the shared stylesheet: wide tables scroll, references greyed
STYLE = """
.scroll { overflow-x: auto; max-width: 100%; }
td:first-child { white-space: nowrap; }
nav a { margin-right: .8em; }
.references td { color: #555; font-style: italic; }
.references td:first-child, .zero-shot td:first-child { font-style: normal; }
.zero-shot td { color: #345; font-style: italic; }
td strong { color: #000; }
.grids figure { margin: 0 0 1.2em 0; } .grids figcaption { max-width: none; font-size: .9em; }
.bars figure { margin: 0 0 1em 0; } .bars figcaption { max-width: none; }
.files a { margin-right: .8em; }
"""


def page_path(bench_dir: Path) -> Path:
    """Where the page of the bench folder `bench_dir` is written."""
    return bench_dir / REPORT_DIR / PAGE_NAME


def write_leaderboard_html(
    bench_dir: Path,
    tables: Tables,
    methods: tuple[str, ...],
    protocol: str,
    title: str | None = None,
    averaging: str = "frame",
) -> Path:
    """Write `OUT/report/leaderboard.html` from `tables` (as `write_tables` returned them for
    `methods`; its figures beside its `.md`) and return its path."""
    path = page_path(bench_dir)
    page_dir = path.parent
    figures = tables.markdown.parent
    summaries = load_summaries(bench_dir, methods)
    parts = [
        _header(tables, protocol, averaging, page_dir),
        _ours(tables, summaries, methods),
        _references(tables),
        _zero_shot(tables, bench_dir),
        _paper(),
        _bars(figures, page_dir),
        _grid_videos(figures / GRIDS_DIR, page_dir),
    ]
    title = title or f"talkingub bench: {protocol}"
    content = H.page(title, [p for p in parts if p], _subtitle(methods, tables), STYLE)
    return H.write_page(path, content)


def _subtitle(methods: Sequence[str], tables: Tables) -> str:
    refs = _reference_names(tables)
    text = f"methods: {', '.join(methods)}"
    text += f"; references (never ranked): {', '.join(refs)}" if refs else ""
    zero = Z.names_of(tables.zero_shot)
    return text + (f"; {Z.ZERO_SHOT_LABEL} (never ranked): {', '.join(zero)}" if zero else "")


def _reference_names(tables: Tables) -> tuple[str, ...]:
    if tables.references.empty:
        return ()
    return tuple(dict.fromkeys(str(m) for m in tables.references["method"]))


# --- header: protocol, build(s), the table files ------------------------------------------


def _header(tables: Tables, protocol: str, averaging: str, page_dir: Path) -> H.Raw:
    files = [tables.markdown, tables.latex, tables.csv]
    links = " ".join(H.link(H.relative_src(f, page_dir), f.name) for f in files)
    parts = [
        H.paragraph(
            H.Raw(
                f"Protocol <strong>{H.esc(protocol)}</strong>; averaging "
                f"<code>{H.esc(averaging)}</code>: {H.esc(AVERAGING.get(averaging, ''))}."
            )
        ),
        _builds(tables.builds),
        H.paragraph(H.Raw(f'<span class="files">Tables as files: {links}</span>')),
        _contents(tables),
    ]
    return H.Raw("\n".join(p for p in parts if p))


def _contents(tables: Tables) -> H.Raw:
    sections = [("ours", "Ours"), ("references", "References"), ("paper", "Published")]
    sections += [("bars", "Bar charts"), ("grids", "Grid videos")]
    if tables.references.empty:
        sections.remove(("references", "References"))
    if not tables.zero_shot.empty:
        sections.insert(sections.index(("paper", "Published")), ("zero-shot", "Zero-shot"))
    links = " ".join(H.link(f"#{anchor}", name) for anchor, name in sections)
    return H.Raw(f"<nav>Contents: {links}</nav>")


def _builds(groups: Sequence[BuildGroup]) -> str:
    """The build the numbers are on, or the warning that the runs used several."""
    if not groups:
        return ""
    if len(groups) == 1:
        return H.paragraph(H.Raw(f"Build: {_described(groups[0])}."))
    items = "".join(f"<li>{_described(g)}: {H.esc(', '.join(g.runs))}</li>" for g in groups)
    return H.Raw(
        f'<div class="note"><strong>Mixed builds</strong>: these runs were evaluated on '
        f"{len(groups)} different builds, so their numbers are not comparable.<ul>{items}</ul>"
        "</div>"
    )


def _described(group: BuildGroup) -> str:
    if group.ref is None:
        return H.esc(f"{UNKNOWN} ({UNKNOWN_NOTE})")
    return f"<code>{H.esc(group.ref.path)}</code> ({H.esc(group.ref.label)})"


# --- the tables -----------------------------------------------------------------------------


def _both(tables: Tables) -> pd.DataFrame:
    """Ours and the references: the columns (and their arrows) of both blocks."""
    return _stack([tables.scores, tables.references, tables.zero_shot])


def _ours(tables: Tables, summaries: list[dict[str, Any]], methods: tuple[str, ...]) -> H.Raw:
    both = _both(tables)
    header, body = leaderboard_rows(both, summaries, methods, "markdown", _columns(both))
    rows = [[_strong(cell) for cell in row] for row in body]
    notes = [H.paragraph(_cells_note(tables.scores), cls="subtitle")]
    if T.labelled(T.method_tracks(summaries, methods)):  # several tracks: ranked within each
        notes.append(H.paragraph(T.TRACKS_NOTE, cls="subtitle"))
    return H.section("Ours", _scroll(H.table(header, rows)), *notes, anchor="ours")


def _strong(cell: str) -> str:
    """A cell `leaderboard_rows` made bold (`**text**`, the best of the methods) in HTML."""
    if len(cell) > 4 and cell.startswith("**") and cell.endswith("**"):
        return H.Raw(f"<strong>{H.esc(cell[2:-2])}</strong>")
    return cell


def _cells_note(scores: pd.DataFrame) -> str:
    seeds = _seed_counts(scores)
    counts = set(seeds.values())
    if len(counts) == 1:
        n = counts.pop()
        said = f"n = {n} seed{'s' if n != 1 else ''} for every method"
    else:
        said = "seeds per method: " + ", ".join(f"{m} n = {n}" for m, n in seeds.items())
    return (
        "Each cell: the mean over the seeds ± the half-width of its 95% Student-t interval "
        f"(shown when n ≥ 2; {said}). ↑ higher is better, ↓ lower is better; the best of the "
        "methods in each column is bold; n/a: not measured. params (M): millions of "
        "parameters. " + TIMING_NOTE
    )


def _seed_counts(scores: pd.DataFrame) -> dict[str, int]:
    if scores.empty:
        return {}
    return {str(m): int(g["n"].max()) for m, g in scores.groupby("method", sort=False)}


def _references(tables: Tables) -> H.Raw | None:
    names = _reference_names(tables)
    if not names:
        return None
    both = _both(tables)
    columns = _columns(both)
    header, _ = leaderboard_rows(both, [], (), "markdown", columns, label="reference")
    rows = reference_rows(both, names, columns, "markdown")
    return H.section(
        REFERENCES_TITLE,
        H.paragraph(REFERENCES_NOTE),
        H.Raw(f'<div class="references scroll">{H.table(header, rows)}</div>'),
        anchor="references",
    )


def _zero_shot(tables: Tables, bench_dir: Path) -> H.Raw | None:
    """Published weights evaluated zero-shot: the methods' columns, never ranked."""
    names = Z.names_of(tables.zero_shot)
    if not names:
        return None
    both = _both(tables)
    columns = _columns(both)
    header, _ = leaderboard_rows(both, [], (), "markdown", columns, label=Z.ZERO_SHOT_LABEL)
    summaries = load_summaries(bench_dir, (), zero_shot_dirs(bench_dir))
    weights = {str(s.get("method")): Z.weights_label(s) for s in summaries}
    rows = Z.zero_shot_rows(tables.zero_shot, names, columns, "markdown", summaries)
    rows = [[*row, weights.get(row[0], "?")] for row in rows]
    table = H.table([*header, "weights"], rows)
    return H.section(
        Z.ZERO_SHOT_TITLE,
        H.paragraph(Z.ZERO_SHOT_NOTE),
        H.Raw(f'<div class="zero-shot scroll">{table}</div>'),
        anchor="zero-shot",
    )


def _paper() -> H.Raw:
    cite, published = paper_tables()
    parts: list[str] = [H.paragraph(f"Source: {cite}.")]
    for table in published:
        parts += [
            H.Raw(f"<h3>{H.esc(table.title)}</h3>"),
            _scroll(H.table(table.header, table.body)),
        ]
    return H.section("Published (PTUS paper)", *parts, anchor="paper")


def _scroll(content: str) -> H.Raw:
    return H.Raw(f'<div class="scroll">{content}</div>')


# --- figures --------------------------------------------------------------------------------


def _bars(figures: Path, page_dir: Path) -> H.Raw:
    charts = sorted(figures.glob("bars*.png"))
    if not charts:
        return H.section(
            "Bar charts",
            H.paragraph("No bar chart (no finite value, or no matplotlib)."),
            anchor="bars",
        )
    shown = [
        H.figure(H.image(H.relative_src(p, page_dir), p.stem), _bar_caption(p)) for p in charts
    ]
    return H.section(
        "Bar charts", H.Raw(f'<div class="bars">{"".join(shown)}</div>'), anchor="bars"
    )


def _bar_caption(path: Path) -> str:
    task = path.stem.partition("-")[2] or "same"
    return (
        f"{path.name}: {TASK_LABEL.get(task, task)} metrics, one panel per metric (↑ higher, "
        "↓ lower is better); bars: each method's mean with its 95% interval; lines: the "
        "reference rows."
    )


def _grid_videos(folder: Path, page_dir: Path) -> H.Raw:
    videos = sorted(folder.glob("*.mp4"))
    if not videos:
        return H.section(
            "Grid videos",
            H.paragraph("No grid video (evaluation.grid_videos is 0)."),
            anchor="grids",
        )
    shown = [H.figure(H.video(H.relative_src(v, page_dir)), _grid_caption(v)) for v in videos]
    intro = H.paragraph(
        "One evaluation item per video, one column per output, left to right as the labels "
        "above the frames say: the source image and the driving frames (which are also what "
        "the references copy-source and copy-driving output), then each method."
    )
    return H.section(
        "Grid videos", intro, H.Raw(f'<div class="grids">{"".join(shown)}</div>'), anchor="grids"
    )


def _grid_caption(video: Path) -> str:
    """`<task> · item <item> — columns: a | b | …` from the `.txt` `grid_video` writes."""
    sidecar = video.with_suffix(".txt")
    lines = sidecar.read_text().splitlines() if sidecar.is_file() else []
    if len(lines) < 2:
        return f"item {video.stem}"
    task, _, item = lines[1].partition(": ")
    return f"{TASK_LABEL.get(task, task)} · item {item} — columns: {lines[0]}"
