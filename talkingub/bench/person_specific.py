"""The person-specific track: one model per person, trained on that person's own frames.

A method whose model class declares `track = "person-specific"` (`liu-ubkp`, Liu et al.) is
not trained once on the training identities like the one-shot methods. `bench train` trains
one model per person the evaluation lists need (`person_data.persons_needed`: every test
identity, and every cross-identity source person) on that person's frames outside
everything the lists score (`person_data.plan_person`); `bench eval` drives, for each item,
the model of its person:

- same identity: the test person's model with the listed (held-back) frames' own keypoints
  (`reconstruct`), scored against those frames;
- cross identity: the *source* person's model with the driving person's keypoints after
  global pose normalisation (`animate(mode="relative")`), scored like every method (motion
  against the driving frames, identity against the source frame).

The lists, metrics and outputs are the one-shot methods' (`talkingub.bench.evaluate`); the
model sees only the driving frames' recorded pose and face box (`pose_track`), never their
pixels. Layout:

    OUT/<method>/seed-<s>/persons/<person>/   one training run each (final.pt, run.json, ...)
    OUT/<method>/seed-<s>/persons.json        the persons, their runs and training frames
    OUT/<method>/seed-<s>/eval/               as every method; summary.json `track`

The tables show these rows in a block of their own, labelled "person-specific", never
ranked with the one-shot methods (`talkingub.bench.leaderboard`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from talkingub.bench import distributed as D
from talkingub.bench.build_ref import BuildRef, check_trained_on, optional_ref
from talkingub.bench.checkpoint import load_model_weights
from talkingub.bench.data import BuildIndex, ClipStore
from talkingub.bench.eval_jobs import run_eval_job
from talkingub.bench.evaluate import EvalJob, EvalResult, _generate, _Model, evaluate
from talkingub.bench.holdout import training_holdout
from talkingub.bench.lists import EvalLists
from talkingub.bench.person_data import PersonPlan, persons_needed, plan_person, used_frames
from talkingub.bench.pose_track import PoseTrack
from talkingub.bench.protocol import Protocol
from talkingub.bench.references import split_methods
from talkingub.bench.train import TrainJob, TrainResult, refuse_silent_restart, train
from talkingub.errors import ConfigError
from talkingub.io.atomic import atomic_write_text
from talkingub.models.base import PERSON_SPECIFIC

if TYPE_CHECKING:
    from talkingub.bench.runner import BenchRun

TRACK = PERSON_SPECIFIC
INDEX_FILE = "persons.json"
PERSONS_DIR = "persons"
MODEL_CACHE = 4  # per-person models kept loaded during an evaluation


def is_person_specific(method: str) -> bool:
    """Whether `method` is a registered model of the person-specific track."""
    from talkingub.models.registry import list_models, model_spec

    if method not in list_models():
        return False
    return str(getattr(model_spec(method).cls, "track", "")) == TRACK


def methods_of(protocol: Protocol) -> tuple[str, ...]:
    """The protocol's methods of the person-specific track (references are none)."""
    return tuple(m for m in split_methods(protocol.methods)[0] if is_person_specific(m))


def seed_dir(out_dir: Path, method: str, seed: int) -> Path:
    return Path(out_dir) / method / f"seed-{seed}"


def person_folder(identity: str) -> str:
    """A folder name for `identity` (its characters outside [A-Za-z0-9._-] replaced, with a
    hash of the identity then, so two identities never share a folder)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", identity)[:64]
    if safe == identity and safe not in (".", ".."):
        return safe
    return f"{safe}-{hashlib.sha256(identity.encode()).hexdigest()[:8]}"


def window_of(method: str, variant: str) -> int:
    """Frames per training window of `method`'s config: its temporal window L, plus one."""
    from talkingub.models.registry import load_model_config

    return int(getattr(load_model_config(method, variant), "temporal_window", 1)) + 1


def plans(run: BenchRun, method: str, lists: EvalLists) -> list[PersonPlan]:
    """The training frames of every person `method` needs a model of under `run`."""
    index = BuildIndex(run.build_dir)
    used = used_frames(index, lists)
    gap = run.protocol.person_specific.gap_s
    window = window_of(method, run.protocol.variant)
    holdout = training_holdout(run.protocol.evaluation.lists)
    return [
        plan_person(index, identity, used, gap, window, holdout)
        for identity in persons_needed(lists)
    ]


def train_jobs(run: BenchRun, method: str, seed: int, plan: list[PersonPlan]) -> list[TrainJob]:
    folder = seed_dir(run.out_dir, method, seed) / PERSONS_DIR
    return [
        TrainJob(
            method,
            run.build_dir,
            folder / person_folder(p.identity),
            run.protocol,
            seed,
            run.device,
            run.resume,
            run.progress,
            run.restart,
            allow_mixed_builds=run.allow_mixed_builds,
            frames=p.frames,
        )
        for p in plan
    ]


def refuse_early(run: BenchRun, methods: tuple[str, ...]) -> None:
    """`refuse_silent_restart` for every person folder an earlier run left (checked before
    anything is written: the persons to come are known only once the lists are)."""
    for method in methods:
        for seed in run.protocol.seeds:
            persons = seed_dir(run.out_dir, method, seed) / PERSONS_DIR
            for folder in sorted(p for p in persons.glob("*") if p.is_dir()):
                refuse_silent_restart(
                    TrainJob(
                        method,
                        run.build_dir,
                        folder,
                        run.protocol,
                        seed,
                        run.device,
                        run.resume,
                        restart=run.restart,
                    )
                )


def train_method(run: BenchRun, method: str, lists: EvalLists) -> list[TrainResult]:
    """Train every person's model of `method`, every seed; write `persons.json`."""
    plan = plans(run, method, lists)
    results = []
    for seed in run.protocol.seeds:
        jobs = train_jobs(run, method, seed, plan)
        done = [train(job) for job in jobs]
        results += done
        if int(os.environ.get("RANK", "0")) == 0:
            _write_index(run, method, seed, plan, jobs, done)
    return results


def _write_index(
    run: BenchRun,
    method: str,
    seed: int,
    plan: list[PersonPlan],
    jobs: list[TrainJob],
    done: list[TrainResult],
) -> None:
    folder = seed_dir(run.out_dir, method, seed)
    payload = {
        "track": TRACK,
        "method": method,
        "seed": seed,
        "gap_s": run.protocol.person_specific.gap_s,
        "persons": {
            p.identity: {
                **p.record(),
                "run": str(job.run_dir.relative_to(folder)),
                "final": str(result.final.relative_to(folder)),
                "steps": result.steps,
            }
            for p, job, result in zip(plan, jobs, done)
        },
    }
    atomic_write_text(folder / INDEX_FILE, json.dumps(payload, indent=1) + "\n")


def eval_method(
    run: BenchRun, method: str, seed: int, lists: EvalLists, build: BuildRef
) -> EvalResult:
    """Evaluate `method`'s per-person models of `seed` on `lists` (its `eval/` folder)."""
    folder = seed_dir(run.out_dir, method, seed)
    index = folder / INDEX_FILE
    if not index.is_file():
        raise ConfigError(f"{index} not found: run `talkingub bench train` first")
    job = run_eval_job(
        run, method, index, folder / "eval", lists, build, seed, generator=PersonModels
    )
    return evaluate(job)


class PersonModels(_Model):
    """The evaluation's generator for a person-specific method: the model of each item's
    person (loaded on demand, a few kept), driven by the recorded pose of the driving frames.
    `job.checkpoint` is the method's `persons.json`."""

    def __init__(self, job: EvalJob, info: D.DistInfo) -> None:
        assert job.checkpoint is not None
        self.job = job
        self.device = D.device_for(job.device, info)
        self.folder = job.checkpoint.parent
        index = json.loads(job.checkpoint.read_text())
        self.persons: dict[str, dict[str, Any]] = index["persons"]
        if not self.persons:
            raise ConfigError(f"{job.checkpoint}: no person-specific model was trained")
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._track: PoseTrack | None = None
        self.few_shot = None  # the person-specific track gets no subject frames
        self.step = None  # one model per person: no single training step to log events at
        first = sorted(self.persons)[0]
        self.model, state = self._load(first)
        self.trained_on = optional_ref(state.get("build"), f"{job.checkpoint}: build")
        modes = self.model.animate_modes
        self.cross_mode = job.cross_mode if job.cross_mode in modes else modes[0]
        self.about = {
            "track": TRACK,
            "gap_s": index.get("gap_s"),
            "persons": {
                name: {k: entry.get(k) for k in ("train_frames", "excluded_frames", "final")}
                for name, entry in sorted(self.persons.items())
            },
        }

    def _load(self, identity: str) -> tuple[Any, dict[str, Any]]:
        entry = self.persons.get(identity)
        if entry is None:
            raise ConfigError(
                f"{self.job.method}: no model of {identity!r} in {self.job.checkpoint}: "
                "the lists changed since training; run `talkingub bench train` again"
            )
        model, state = load_model_weights(self.folder / entry["final"], self.device)
        self._cache[identity] = model
        while len(self._cache) > MODEL_CACHE:
            self._cache.popitem(last=False)
        return model, state

    def model_for(self, identity: str) -> Any:
        if identity in self._cache:
            self._cache.move_to_end(identity)
            return self._cache[identity]
        model, state = self._load(identity)
        trained = optional_ref(state.get("build"), f"{self.job.method} {identity}: build")
        build = self.job.build_ref or BuildRef.from_build(self.job.build_dir)
        run = f"{self.job.method} seed {self.job.seed} ({identity})"
        check_trained_on(run, trained, build, self.job.allow_mixed_builds)
        return model

    def generate(
        self, store: ClipStore, clip: str, source: tuple[str, int], frames: list[int], task: str
    ) -> tuple[np.ndarray, float]:
        """The item's person's model (cross identity: the source's) driven by the recorded
        pose and face boxes of `clip`'s `frames`."""
        track = self._track = self._track or PoseTrack(store.index)
        person = store.index.clips[source[0] if task == "cross" else clip].identity
        model = self.model_for(person)
        size = int(model.config.image_size)
        pose = torch.from_numpy(track.pose(clip, frames))[None]
        box = torch.from_numpy(track.face_boxes(clip, frames))[None]
        blank = torch.zeros(1, 3, size, size)  # the person is in the weights: no pixels
        driving = blank[:, None].expand(1, len(frames), 3, size, size)
        extra = {"driving_pose": pose, "driving_face_box": box}
        mode = self.cross_mode if task == "cross" else "reconstruct"
        return _generate(model, (blank, driving, extra), mode)
