"""What the leaderboard says about the builds its numbers are on (`talkingub.bench.build_ref`).

Every evaluation's `summary.json` records its build (`build`; an evaluation written before
talkingub recorded builds has none: an unknown build) and the one its checkpoint was trained
on (`trained_on`): a checkpoint evaluated on another build (allowed at `bench eval`) counts
as a run of both, so the tables say so too. One build: the Markdown header names
it (path, config hash, manifest digest prefix), as does a comment atop the LaTeX and the CSV's
`build` column. Several builds are refused (`MixedBuildsError`) unless allowed; the tables
then carry a note listing each build and its runs (Markdown, and visibly in the LaTeX table),
and each CSV row names the builds of its runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from talkingub.bench.build_ref import (
    FLAG,
    UNKNOWN,
    BuildGroup,
    RunBuild,
    check_one_build,
    optional_ref,
)
from talkingub.bench.zero_shot import TRACK

UNKNOWN_NOTE = (
    "evaluated by an older talkingub, which recorded no build: re-run `talkingub bench eval` "
    "to record it"
)


def run_name(summary: dict[str, Any], references: Sequence[str] = ()) -> str:
    method = str(summary.get("method"))
    if summary.get("reference") or method in references:
        return method
    if summary.get("track") == TRACK:  # published weights (talkingub.bench.zero_shot): no seed
        return f"{method} ({summary['track']})"
    return f"{method} seed {summary.get('seed')}"


def summary_builds(summary: dict[str, Any], references: Sequence[str] = ()) -> list[RunBuild]:
    """The build one evaluation was on (None: unknown) and, when its checkpoint records
    another one (evaluated with `--allow-mixed-builds`), that one as `<run> (trained)`."""
    name = run_name(summary, references)
    where = f"{name}: summary.json"
    evaluated = RunBuild(name, optional_ref(summary.get("build"), where))
    trained = optional_ref(summary.get("trained_on"), where)
    if trained is None or (evaluated.ref is not None and trained.same_build(evaluated.ref)):
        return [evaluated]
    return [evaluated, RunBuild(f"{name} (trained)", trained)]


def run_builds(
    summaries: Sequence[dict[str, Any]], references: Sequence[str] = ()
) -> list[RunBuild]:
    """Each evaluation's run and build (`summary_builds`), in order."""
    return [run for summary in summaries for run in summary_builds(summary, references)]


def table_builds(
    summaries: Sequence[dict[str, Any]], references: Sequence[str] = (), allow: bool = False
) -> tuple[BuildGroup, ...]:
    """The builds of the evaluations; several are refused (`MixedBuildsError`) unless `allow`."""
    return tuple(check_one_build(run_builds(summaries, references), allow))


def method_builds(
    summaries: Sequence[dict[str, Any]], references: Sequence[str] = ()
) -> dict[str, str]:
    """method -> the labels of the builds its evaluations were on (and trained on, where
    another), `; `-joined: the CSV's `build` column."""
    labels: dict[str, list[str]] = {}
    for summary in summaries:
        found = labels.setdefault(str(summary.get("method")), [])
        for item in summary_builds(summary, references):
            label = item.ref.label if item.ref is not None else UNKNOWN
            if label not in found:
                found.append(label)
    return {method: "; ".join(found) for method, found in labels.items()}


def _described(group: BuildGroup) -> str:
    if group.ref is None:
        return f"{UNKNOWN} ({UNKNOWN_NOTE})"
    return f"`{group.ref.path}` ({group.ref.label})"


def markdown_header(groups: Sequence[BuildGroup]) -> str:
    """The lines under the title: the build, or the note that the builds are mixed."""
    if not groups:
        return ""
    if len(groups) == 1:
        return f"Build: {_described(groups[0])}.\n\n"
    lines = [
        f"**Mixed builds** (tabled with `{FLAG}`): these runs were evaluated on "
        f"{len(groups)} different builds, so their numbers are not comparable.",
        "",
    ]
    lines += [f"- {_described(g)}: {', '.join(g.runs)}" for g in groups]
    return "\n".join(lines) + "\n\n"


def latex_comment(groups: Sequence[BuildGroup]) -> str:
    """`%` lines naming each build (its path too): atop the .tex."""
    lines = []
    for group in groups:
        where = f"{group.ref.path} ({group.ref.label})" if group.ref else UNKNOWN
        runs = f": {', '.join(group.runs)}" if len(groups) > 1 else ""
        lines.append(f"% build: {where}{runs}".replace("\n", " "))
    return "".join(line + "\n" for line in lines)


def latex_note(groups: Sequence[BuildGroup]) -> str | None:
    """The note under the LaTeX table when the builds are mixed (None: one build)."""
    if len(groups) < 2:
        return None
    parts = [f"{g.label}: {', '.join(g.runs)}" for g in groups]
    return (
        rf"\emph{{Mixed builds: these runs were evaluated on {len(groups)} different builds, "
        rf"so their numbers are not comparable}} ({'; '.join(parts)})."
    )
