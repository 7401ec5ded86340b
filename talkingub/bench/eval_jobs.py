"""The `EvalJob` of one bench run's evaluation folder: what every evaluation of a run shares
(build, lists, the protocol's evaluation settings, device, progress, the mixed-builds switch),
so the runner's trained methods, references and published weights and the person-specific
track build their jobs the same way."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from talkingub.bench.build_ref import BuildRef
from talkingub.bench.evaluate import EvalJob
from talkingub.bench.lists import EvalLists

if TYPE_CHECKING:  # the runner imports this module
    from talkingub.bench.runner import BenchRun


def run_eval_job(
    run: BenchRun,
    method: str,
    checkpoint: Path | None,
    out_dir: Path,
    lists: EvalLists,
    build: BuildRef,
    seed: int = 0,
    **extra: Any,
) -> EvalJob:
    """`method`'s evaluation into `out_dir` (`extra`: the other `EvalJob` fields)."""
    return EvalJob(
        method,
        checkpoint,
        run.build_dir,
        out_dir,
        lists,
        run.protocol.evaluation,
        seed,
        run.device,
        progress=run.progress,
        build_ref=build,
        allow_mixed_builds=run.allow_mixed_builds,
        **extra,
    )
