"""Leaderboard tables from the per-video results: Markdown, LaTeX and CSV.

Numbers are re-aggregated from `per_video.parquet` (frame-weighted over the videos'
scored frames, or the mean of per-video values with `averaging="video"`); set-level metrics
(FID/FVD) come from `summary.json`. Several seeds give mean ± 95% interval (Student t).
Arrows follow each metric's direction, the best value per column is bold, and the paper's
published numbers (`talkingub/presets/paper/ptus.yaml`, PTUS Tables 1/3/4) are a separate
block beside ours. Reference rows (`talkingub.bench.references`: copy-source, copy-driving;
read from `OUT/references/<name>/eval/`) have the same columns in a block of their own
("References": a Markdown table, rows after a LaTeX rule, `block = references` in the CSV);
they are never bold and never ranked with the methods. A value of +inf (PSNR of an exact
copy) is shown as ∞. Published weights evaluated zero-shot (`OUT/pretrained/<name>/eval/`)
are a block of their own too, never ranked (`talkingub.bench.leaderboard_zero_shot`). The
build the runs were evaluated on heads the tables; runs of different builds are refused
unless allowed (`talkingub.bench.leaderboard_builds`). Methods of several tracks (one-shot,
few-shot, person-specific) are labelled and ranked within their track (`leaderboard_tracks`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from talkingub.bench import leaderboard_builds as B
from talkingub.bench import leaderboard_tracks as T
from talkingub.bench import leaderboard_zero_shot as Z
from talkingub.bench.build_ref import BuildGroup
from talkingub.bench.leaderboard_cells import (
    _bold,
    _cell,
    _extras,
    _isnan,
    _number,
    _stack,
    markdown_table,
)
from talkingub.bench.zero_shot import eval_dirs as zero_shot_dirs
from talkingub.errors import ConfigError
from talkingub.io.atomic import atomic_write_text
from talkingub.presets import preset_path

PAPER_FILE = preset_path("paper", "ptus")
# The tables use booktabs' rules (\toprule, \midrule, \bottomrule): the .tex says so first.
LATEX_PREAMBLE_NOTE = "% requires \\usepackage{booktabs}\n"
TASK_LABEL = {
    "same": "same id.",
    "same_excl0": "same id. (w/o frame 0)",
    "cross": "cross id.",
    "far": "far pairs",
}
TIMING_NOTE = (
    "ms/frame: the model's time per generated frame during `bench eval` (same-identity "
    "list), on the device its summary.json names, while the machine did whatever else it was "
    "doing: it varies from run to run (4x between two runs on a shared 2-core CPU), so compare "
    "it only between methods timed on one otherwise idle machine; `benchmarks/bench_gpu.py` "
    "measures speed and memory under control."
)
REFERENCES_TITLE = "References (not ranked)"
REFERENCES_NOTE = (
    "Trivial outputs scored by the same code on the same lists. copy-source: the source "
    "frame repeated; a method must beat it to show it learned motion. copy-driving: the "
    "driving frame; on same-identity lists and far pairs it is the ground truth (the bound no "
    "method passes: L1 0, the best PSNR/SSIM the metrics give; its detector metrics are the "
    "detectors' floor), on cross-identity lists it shows the driving person (perfect motion, "
    "the wrong identity: its identity metrics are those of a method that ignores the source)."
)


@dataclasses.dataclass(frozen=True)
class Tables:
    markdown: Path
    latex: Path
    csv: Path
    scores: pd.DataFrame  # method, task, metric, mean, ci95, n, higher_is_better
    references: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)  # same columns
    builds: tuple[BuildGroup, ...] = ()  # the builds the runs were evaluated on, with the runs
    html: Path | None = None  # OUT/report/leaderboard.html (`leaderboard_html`), once written
    zero_shot: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)  # same columns

    @property
    def mixed_builds(self) -> bool:
        return len(self.builds) > 1


def eval_dirs(bench_dir: Path, methods: tuple[str, ...]) -> list[Path]:
    return [d for m in methods for d in sorted((bench_dir / m).glob("seed-*/eval")) if d.is_dir()]


def reference_eval_dirs(bench_dir: Path, references: tuple[str, ...]) -> list[Path]:
    """The evaluations of the references (`OUT/references/<name>/eval`) that exist."""
    dirs = [bench_dir / "references" / r / "eval" for r in references]
    return [d for d in dirs if (d / "summary.json").is_file()]


def load_per_video(
    bench_dir: Path, methods: tuple[str, ...], dirs: list[Path] | None = None
) -> pd.DataFrame:
    dirs = eval_dirs(bench_dir, methods) if dirs is None else dirs
    frames = [pd.read_parquet(d / "per_video.parquet") for d in dirs]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_summaries(
    bench_dir: Path, methods: tuple[str, ...], dirs: list[Path] | None = None
) -> list[dict[str, Any]]:
    dirs = eval_dirs(bench_dir, methods) if dirs is None else dirs
    return [json.loads((d / "summary.json").read_text()) for d in dirs]


def aggregate_videos(per_video: pd.DataFrame, averaging: str = "frame") -> pd.DataFrame:
    """One value per (method, seed, task, metric) from the per-video rows."""
    rows = []
    keys = ["method", "seed", "task", "metric"]
    for key, group in per_video.groupby(keys, sort=True):
        used = group[(group["frames"] > 0) & ~group["value"].map(_isnan)]
        if used.empty:
            value = math.nan
        elif averaging == "video":
            value = float(used["value"].mean())
        else:
            value = float((used["value"] * used["frames"]).sum() / used["frames"].sum())
        hib = bool(group["higher_is_better"].iloc[0])
        rows.append({**dict(zip(keys, key)), "value": value, "higher_is_better": hib})
    return pd.DataFrame(rows, columns=[*keys, "value", "higher_is_better"])


def set_level_rows(summaries: list[dict[str, Any]], known: set[tuple[str, str]]) -> pd.DataFrame:
    """Metrics without per-video values (FID, FVD, n/a) from the summaries."""
    rows = []
    for s in summaries:
        for t in s["totals"]:
            if (t["task"], t["metric"]) not in known:
                value = math.nan if t["value"] is None else float(t["value"])
                rows.append(
                    {
                        "method": s["method"],
                        "seed": s["seed"],
                        "task": t["task"],
                        "metric": t["metric"],
                        "value": value,
                        "higher_is_better": bool(t["higher_is_better"]),
                    }
                )
    return pd.DataFrame(rows)


SCORE_COLUMNS = ["method", "task", "metric", "mean", "ci95", "n", "higher_is_better"]


def over_seeds(values: pd.DataFrame) -> pd.DataFrame:
    if values.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    out = []
    for (method, task, metric), group in values.groupby(["method", "task", "metric"], sort=False):
        mean, half, n = mean_ci(group["value"].tolist())
        hib = bool(group["higher_is_better"].iloc[0])
        out.append(
            {
                "method": method,
                "task": task,
                "metric": metric,
                "mean": mean,
                "ci95": half,
                "n": n,
                "higher_is_better": hib,
            }
        )
    return pd.DataFrame(out, columns=SCORE_COLUMNS)


def mean_ci(values: list[float]) -> tuple[float, float, int]:
    """Mean and half-width of the 95% Student-t interval over the values that are not nan
    (interval nan if n < 2 or a value is infinite)."""
    finite = [v for v in values if not math.isnan(v)]
    n = len(finite)
    if not n:
        return math.nan, math.nan, 0
    mean = sum(finite) / n
    if n < 2 or not math.isfinite(mean):
        return mean, math.nan, n
    from scipy.stats import t

    std = math.sqrt(sum((v - mean) ** 2 for v in finite) / (n - 1))
    return mean, float(t.ppf(0.975, n - 1) * std / math.sqrt(n)), n


def compute_scores(
    bench_dir: Path,
    methods: tuple[str, ...],
    averaging: str = "frame",
    dirs: list[Path] | None = None,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Scores over seeds of `methods` (their `seed-*/eval` folders), or of the evaluation
    folders `dirs` (the references')."""
    per_video = load_per_video(bench_dir, methods, dirs)
    summaries = load_summaries(bench_dir, methods, dirs)
    videos = aggregate_videos(per_video, averaging) if not per_video.empty else pd.DataFrame()
    known = set(zip(videos.get("task", []), videos.get("metric", [])))
    values = pd.concat([videos, set_level_rows(summaries, known)], ignore_index=True)
    return over_seeds(values), summaries


def _columns(scores: pd.DataFrame) -> list[tuple[str, str]]:
    if scores.empty:
        return []
    order = {t: i for i, t in enumerate(TASK_LABEL)}
    pairs = list(dict.fromkeys(zip(scores["task"], scores["metric"])))
    return sorted(pairs, key=lambda p: order.get(p[0], len(order)))


def _arrow(scores: pd.DataFrame, column: tuple[str, str], latex: bool = False) -> str:
    part = scores[(scores["task"] == column[0]) & (scores["metric"] == column[1])]
    up = bool(part["higher_is_better"].iloc[0])
    if latex:
        return r"$\uparrow$" if up else r"$\downarrow$"
    return "↑" if up else "↓"


def leaderboard_rows(
    scores: pd.DataFrame,
    summaries: list[dict[str, Any]],
    methods: tuple[str, ...],
    fmt: str,
    columns: list[tuple[str, str]] | None = None,
    label: str = "method",
) -> tuple[list[str], list[list[str]]]:
    """Header and one row per method, the best of `methods` per column bold. `scores` may
    hold other rows (the references, for the arrows of their columns): never ranked."""
    columns = _columns(scores) if columns is None else columns
    latex = fmt == "latex"
    header = (
        [label]
        + [
            f"{TASK_LABEL.get(t, t)} {m.upper()} {_arrow(scores, (t, m), latex)}"
            for t, m in columns
        ]
        + ["params (M)", "ms/frame"]
    )
    body = []
    tracks = T.method_tracks(summaries, methods)  # the row names its track, ranked within it
    for method in methods:
        row = [T.row_label(method, tracks)]
        for column in columns:
            text, best = _cell(scores, method, column, fmt, among=T.peers(method, tracks))
            row.append(_bold(text, fmt) if best else text)
        row += _extras(summaries, method)
        body.append(row)
    return header, body


def reference_rows(
    scores: pd.DataFrame, references: tuple[str, ...], columns: list[tuple[str, str]], fmt: str
) -> list[list[str]]:
    """One row per reference in the methods' columns: never bold, no parameters or timing."""
    return [
        [name, *(_cell(scores, name, column, fmt)[0] for column in columns), "-", "-"]
        for name in references
    ]


def latex_table(
    header: list[str],
    body: list[list[str]],
    caption: str,
    references: list[list[str]] | None = None,
    note: str | None = None,
    blocks: Sequence[tuple[str, list[list[str]]]] = (),
) -> str:
    """A booktabs table; `references`, then each of `blocks` (title, rows): rows after a
    rule and a title line; `note`: a paragraph under the tabular."""
    spec = "l" + "r" * (len(header) - 1)
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{caption}}}",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(header) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(r) + r" \\" for r in body]
    for name, rows in [(REFERENCES_TITLE, references or []), *blocks]:
        if rows:
            title = rf"\multicolumn{{{len(header)}}}{{l}}{{\emph{{{name}}}}} \\"
            lines += [r"\midrule", title, *(" & ".join(r) + r" \\" for r in rows)]
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += [r"\par\smallskip", note] if note else []
    lines.append(r"\end{table}")
    return "\n".join(lines).replace("_", r"\_").replace(r"\_excl0", "_excl0") + "\n"


@dataclasses.dataclass(frozen=True)
class PaperTable:
    title: str
    header: list[str]
    body: list[list[str]]


def paper_tables() -> tuple[str, list[PaperTable]]:
    """The citation and the paper's Tables 1/3/4 as text cells (the md, tex and html use)."""
    data = yaml.safe_load(PAPER_FILE.read_text())
    names = list(data["metrics"])
    arrows = {n: ("↑" if data["metrics"][n]["higher_is_better"] else "↓") for n in names}
    header = ["method"] + [
        f"{data['metrics'][n]['task']} id. {n.upper()} {arrows[n]}" for n in names
    ]
    tables = [
        PaperTable(
            str(table["title"]),
            header,
            [[m] + [_number(float(v[n])) for n in names] for m, v in table["rows"].items()],
        )
        for table in data["tables"]
    ]
    return str(data["citation"]).strip(), tables


def paper_block(fmt: str) -> str:
    """The paper's Tables 1/3/4 in the same metric columns, with the citation."""
    cite, tables = paper_tables()
    parts = []
    for table in tables:
        header, body = table.header, table.body
        if fmt == "latex":
            latex_header = [
                h.replace("↑", r"$\uparrow$").replace("↓", r"$\downarrow$") for h in header
            ]
            parts.append(latex_table(latex_header, body, f"Published: {table.title}"))
        else:
            parts.append(f"**{table.title}**\n\n" + markdown_table(header, body))
    return (f"% {cite}\n" if fmt == "latex" else f"Source: {cite}.\n\n") + "\n".join(parts)


def write_tables(
    bench_dir: Path,
    methods: tuple[str, ...],
    out_dir: Path | None = None,
    averaging: str = "frame",
    title: str = "talkingub bench",
    references: tuple[str, ...] = (),
    allow_mixed_builds: bool = False,
) -> Tables:
    """Tables of `methods` and, in their own block, of those of `references` that were
    evaluated (`OUT/references/<name>/eval`). Evaluations of different builds are refused
    (`MixedBuildsError`) unless `allow_mixed_builds`, when the tables say so
    (`talkingub.bench.leaderboard_builds`)."""
    out_dir = out_dir or bench_dir / "tables"
    scores, summaries = compute_scores(bench_dir, methods, averaging)
    ref_dirs = reference_eval_dirs(bench_dir, references)
    refs, ref_summaries = compute_scores(bench_dir, (), averaging, ref_dirs)
    shown = tuple(r for r in references if not refs.empty and r in set(refs["method"]))
    zero, zero_summaries = compute_scores(bench_dir, (), averaging, zero_shot_dirs(bench_dir))
    zero_names = Z.names_of(zero)
    if scores.empty and not shown and not zero_names:
        raise ConfigError(
            f"nothing evaluated in {bench_dir} (no seed-*/eval or references/*/eval with "
            "results): run `talkingub bench eval` first"
        )
    if shown:  # in the order asked for (tables, CSV, figure legends)
        order = {name: i for i, name in enumerate(shown)}
        refs = refs[refs["method"].isin(shown)]
        refs = refs.sort_values("method", key=lambda m: m.map(order), kind="stable")
    tabled = summaries + [s for s in ref_summaries if s.get("method") in shown] + zero_summaries
    builds = B.table_builds(tabled, shown, allow_mixed_builds)
    both = _stack([scores, refs, zero])  # every block: the columns and their arrows
    columns = _columns(both)
    header, body = leaderboard_rows(both, summaries, methods, "markdown", columns)
    md = f"# {title}\n\n{B.markdown_header(builds)}## Ours\n\n" + markdown_table(header, body)
    md += f"\n{TIMING_NOTE}\n" + T.markdown_note(summaries, methods)
    if shown:
        ref_header = ["reference", *header[1:]]
        ref_body = reference_rows(both, shown, columns, "markdown")
        md += f"\n### {REFERENCES_TITLE}\n\n{REFERENCES_NOTE}\n\n"
        md += markdown_table(ref_header, ref_body)
    md += Z.markdown_block(zero, zero_names, header, columns, zero_summaries)
    md += "\n## Published (PTUS paper)\n\n" + paper_block("markdown")
    lheader, lbody = leaderboard_rows(both, summaries, methods, "latex", columns)
    lrefs = reference_rows(both, shown, columns, "latex") if shown else None
    tex = LATEX_PREAMBLE_NOTE + B.latex_comment(builds)
    zblocks = Z.latex_blocks(zero, zero_names, columns, zero_summaries)
    note = T.latex_note(B.latex_note(builds), summaries, methods)
    tex += latex_table(lheader, lbody, f"{title} (ours)", lrefs, note, zblocks)
    tex += "\n" + paper_block("latex")
    blocks = [scores.assign(block="ours")]
    if shown:
        blocks.append(refs.assign(block="references"))
    csv_rows = Z.with_track(_stack([*blocks, zero.assign(block=Z.BLOCK)]))
    csv_rows = T.with_method_tracks(csv_rows, summaries)  # ours: one-shot, few-shot, ...
    if not csv_rows.empty:
        csv_rows = csv_rows.assign(task_label=csv_rows["task"].map(lambda t: TASK_LABEL.get(t, t)))
        labels = B.method_builds(tabled, shown)
        csv_rows = csv_rows.assign(build=csv_rows["method"].map(lambda m: labels.get(m, "")))
    paths = (out_dir / "leaderboard.md", out_dir / "leaderboard.tex", out_dir / "leaderboard.csv")
    atomic_write_text(paths[0], md)
    atomic_write_text(paths[1], tex)
    atomic_write_text(paths[2], csv_rows.to_csv(index=False))
    shown_refs = refs.reset_index(drop=True) if shown else pd.DataFrame()
    return Tables(*paths, scores, shown_refs, builds, zero_shot=zero.reset_index(drop=True))
