"""What a training run leaves in its folder, and what a second run there may do with it: a
folder holding a checkpoint is continued (`resume`), moved aside and started over
(`restart`), or refused (`RunExistsError`), never silently overwritten. A run is resumed on
the build it began on (`run.json` `build`), or on another one only when allowed, which
`run.json` then records (`earlier_builds`)."""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from talkingub.bench import checkpoint as ckpt
from talkingub.bench.build_ref import BuildRef, check_resume, optional_ref
from talkingub.errors import ConfigError

if TYPE_CHECKING:
    from talkingub.bench.train import TrainJob


class RunExistsError(ConfigError):
    """A run folder already holds a checkpoint and the job says neither `resume` (continue
    it) nor `restart` (start over): training from step 0 there would silently replace it."""


# What a training run writes in its folder: `restart` moves these aside, nothing else.
RUN_OUTPUTS = (
    "final.pt",
    "final.pt" + ckpt.HASH_SUFFIX,
    "checkpoints/last.pt",
    "checkpoints/last.pt" + ckpt.HASH_SUFFIX,
    "train.json",
    "train_log.csv",
    "run.json",
    "events",
    "eval",
)
PREVIOUS_PREFIX = "previous-"


def check_resume_flags(resume: bool, restart: bool) -> None:
    if resume and restart:
        raise ConfigError(
            "--resume and --restart exclude each other: --resume continues from the last "
            "checkpoint, --restart starts over"
        )


def checkpoints_in(run_dir: Path) -> list[Path]:
    """The checkpoints a previous training run left in `run_dir` (last.pt, final.pt)."""
    found = [run_dir / "checkpoints" / "last.pt", run_dir / "final.pt"]
    return [p for p in found if p.is_file()]


def refuse_silent_restart(job: TrainJob) -> None:
    """RunExistsError when `job` would train from step 0 over a folder holding a checkpoint."""
    if job.resume or job.restart:
        return
    found = checkpoints_in(job.run_dir)
    if found:
        names = " and ".join(str(p.relative_to(job.run_dir)) for p in found)
        raise RunExistsError(
            f"{job.method} seed {job.seed}: {job.run_dir} already holds a checkpoint ({names}); "
            "pass --resume to continue from it or --restart to start over (the old run is "
            "moved aside, not deleted)"
        )


def set_aside_previous_run(run_dir: Path) -> Path | None:
    """Move what an earlier run wrote in `run_dir` (RUN_OUTPUTS only) into
    `run_dir/previous-<UTC time>/`, keeping the relative paths; None when there was nothing.
    Renames within the folder: nothing is deleted or copied, symbolic links move as links."""
    present = [name for name in RUN_OUTPUTS if os.path.lexists(run_dir / name)]
    if (run_dir / "checkpoints").is_symlink():  # the link moves, not what it points at
        present = [n for n in present if not n.startswith("checkpoints/")] + ["checkpoints"]
    if not present:
        return None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = run_dir / f"{PREVIOUS_PREFIX}{stamp}"
    for n in itertools.count(2):
        if not os.path.lexists(target):
            break
        target = run_dir / f"{PREVIOUS_PREFIX}{stamp}-{n}"
    for name in present:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.rename(run_dir / name, destination)
    return target


def earlier_builds(job: TrainJob, build: BuildRef) -> list[BuildRef]:
    """The builds a run that `job` resumes was trained on before, other than `build` (from
    its `run.json`); resuming on another build than the last is refused
    (`MixedBuildsError`) unless `job.allow_mixed_builds`. Empty when nothing is resumed."""
    path = job.run_dir / "run.json"
    if not job.resume or not checkpoints_in(job.run_dir):
        return []
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        return []  # no record (an older talkingub): nothing to compare
    where = f"{path}: build"
    before = [optional_ref(b, where) for b in recorded.get("earlier_builds") or []]
    last = optional_ref(recorded.get("build"), where)
    run = f"{job.method} seed {job.seed}"
    changed = check_resume(run, last, build, job.allow_mixed_builds)
    found = [b for b in (*before, changed) if b is not None and not b.same_build(build)]
    return [b for i, b in enumerate(found) if not any(b.same_build(a) for a in found[:i])]
