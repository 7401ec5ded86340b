"""The few-shot protocol (issue 19): where a few-shot model's N subject frames come from, in
training (the pair's clip, its training frames) and at evaluation (the source's video, never
an item's driving frames), without changing what one-shot models draw."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from talkingub.bench.data import ClipRecord, PairDataset, PairSpec
from talkingub.bench.few_shot import (
    pick_subject_frames,
    portion,
    ref_frames_of,
    unsampled_rest,
)
from talkingub.bench.few_shot_eval import FewShotInputs
from talkingub.bench.holdout import TRAIN_HOLDOUT
from talkingub.bench.lists import EvalLists, make_lists
from talkingub.bench.protocol import AugmentConfig
from talkingub.models.registry import load_model_config


def clip(name: str, identity: str, seconds: float, split: str, sampled_to: float = 0) -> ClipRecord:
    """25 fps, sampled every 5th frame up to `sampled_to` seconds (0: the whole clip)."""
    n = int(seconds * 25)
    last = int(sampled_to * 25) if sampled_to else n
    meta = {
        "fps": 25.0,
        "n_frames": n,
        "sampled_frames": list(range(0, last, 5)),
        "face_boxes": [[0.25, 0.25, 0.75, 0.75]] * n,
    }
    return ClipRecord(name, name, identity, split, Path("x.tar"), (0, 0), meta)


CLIPS = [
    clip("a1", "anna", 12.0, "train"),
    clip("t1", "tom", 4.0, "test"),  # 20 sampled frames
    clip("t2", "tom", 2.0, "test"),  # the same person, another clip
    clip("u1", "uma", 4.0, "test", sampled_to=2.0),  # sampled frames cover the first 2 s only
    clip("v1", "vic", 1.0, "test"),  # one short clip, nothing else of vic
]


class Index:
    root = Path("fake")
    clips: ClassVar[dict[str, ClipRecord]] = {c.clip_id: c for c in CLIPS}

    def split(self, name: str) -> list[ClipRecord]:
        return [c for _, c in sorted(self.clips.items()) if c.split == name]

    def fingerprint(self) -> str:
        return "fake"


def _pick(source: tuple[str, int], clip_id: str, driving: list[int], n: int = 5, **kw: Any) -> Any:
    return pick_subject_frames(
        Index(), source, clip_id, driving, n, kw.get("seed", 0), kw.get("holdout")
    )  # type: ignore[arg-type]


def test_same_identity_subject_frames_never_drive() -> None:
    record = Index.clips["t1"]
    driving = record.sampled[:6]  # max_frames 6: the first 6 sampled frames drive
    picked = _pick(("t1", driving[0]), "t1", driving)
    assert len(picked.frames) == 5 and not picked.fallback and picked.level == 1
    assert all(c == "t1" and f in record.sampled[6:] for c, f in picked.frames)
    assert picked == _pick(("t1", driving[0]), "t1", driving)  # deterministic
    assert picked != _pick(("t1", driving[0]), "t1", driving, seed=1)  # seeded
    assert len(_pick(("t1", driving[0]), "t1", driving, n=3).frames) == 3  # N configurable


def test_when_every_sampled_frame_drives_the_rest_of_the_video_is_used() -> None:
    uma = Index.clips["u1"]  # unsampled second half: step 2
    picked = _pick(("u1", 0), "u1", uma.sampled)
    assert picked.level == 2 and not picked.fallback
    assert all(c == "u1" and f > max(uma.sampled) for c, f in picked.frames)
    assert unsampled_rest(uma, None)[0] == uma.sampled[-1] + 5
    tom = Index.clips["t1"]  # no unsampled rest: the person's other clip (step 3)
    picked = _pick(("t1", 0), "t1", tom.sampled)
    assert picked.level == 3 and {c for c, _ in picked.frames} == {"t2"}
    vic = Index.clips["v1"]  # nothing else at all: the source frame, a fallback
    assert _pick(("v1", 0), "v1", vic.sampled).frames == (("v1", 0),) * 5
    assert _pick(("v1", 0), "v1", vic.sampled).fallback


def test_a_training_clip_gives_its_train_portion_only() -> None:
    anna = Index.clips["a1"]
    held = set(TRAIN_HOLDOUT.held_back(anna))
    driving = sorted(held)[-4:]
    picked = _pick(("a1", sorted(held)[0]), "a1", driving, n=8, holdout=TRAIN_HOLDOUT)
    assert all(f in TRAIN_HOLDOUT.training(anna) for _, f in picked.frames)
    assert portion(anna, TRAIN_HOLDOUT) == TRAIN_HOLDOUT.training(anna)
    assert portion(anna, None) == anna.sampled and unsampled_rest(anna, TRAIN_HOLDOUT) == []
    # cross identity: another person's source clip, whatever the driving frames
    cross = _pick(("a1", 0), "t1", Index.clips["t1"].sampled, holdout=TRAIN_HOLDOUT)
    assert all(c == "a1" and f != 0 for c, f in cross.frames)


class Store:
    """What PairDataset and FewShotInputs read of a ClipStore."""

    index = Index()

    def frames(self, clip_id: str, indices: list[int]) -> np.ndarray:
        return np.stack([np.full((16, 16, 3), i % 256, np.uint8) for i in indices])

    def face_boxes(self, clip_id: str, indices: list[int]) -> np.ndarray:
        return np.tile(np.array([0.25, 0.25, 0.75, 0.75], np.float32), (len(indices), 1))


def test_training_pairs_carry_n_subject_frames_and_keep_the_pair_draws() -> None:
    spec = PairSpec(8, 4, AugmentConfig(), seed=0)
    plain = PairDataset(Store(), spec, length=6)  # type: ignore[arg-type]
    few = PairDataset(Store(), PairSpec(8, 4, AugmentConfig(), 0, ref_frames=3), length=6)  # type: ignore[arg-type]
    for i in range(6):
        a, b = plain[i], few[i]
        assert set(b) - set(a) == {"source_frames", "source_frames_face", "source_frames_face_box"}
        assert all(torch.equal(a[k], b[k]) for k in a)  # the pair is the one every model gets
        assert b["source_frames"].shape == (3, 3, 8, 8)
        assert b["source_frames_face"].shape == (3, 3, 4, 4)
        assert b["source_frames_face_box"].shape == (3, 4)


def test_evaluation_inputs_and_record() -> None:
    config = load_model_config("head3d", "tiny")
    assert ref_frames_of(config) == config.num_ref_frames == 2
    assert ref_frames_of(load_model_config("fomm", "tiny")) == 0
    model = type("M", (), {"config": config})()
    assert (
        FewShotInputs.of(type("F", (), {"config": load_model_config("fomm", "tiny")})(), 0, None)
        is None
    )
    inputs = FewShotInputs.of(model, 0, None)
    assert inputs is not None
    out = inputs.inputs(Store(), "t1", ("t1", 0), [0, 5, 10])
    assert out["source_frames"].shape == (1, 2, 3, 64, 64)
    assert out["source_frames_face"].shape == (1, 2, 3, 32, 32)
    assert out["source_frames_face_box"].shape == (1, 2, 4)
    lists = make_lists(Index(), cross_sources=1, max_frames=None)  # type: ignore[arg-type]
    record = inputs.record(lists, ("same", "cross"))
    assert record["frames"] == 2 and record["rule"]
    assert record["same"]["items"] == 4 and record["cross"]["items"] == 4
    assert record["same"]["fallback"] == 1  # vic: one short clip, every sampled frame drives
    assert isinstance(lists, EvalLists)
