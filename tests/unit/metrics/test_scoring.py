"""The scoring core shared by `talkingub metrics` and the bench, and the metric facts it reads
from the classes: contract options by fact, detectors run once per stream, identity metrics
against the source image, batching and frame offsets that do not change values, n/a order."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from talkingub.bench.protocol import EvalConfig
from talkingub.bench.scoring import Scorer, Variant
from talkingub.metrics import METRICS, MetricScorer, metric_class
from talkingub.metrics.scoring import contract_options
from talkingub.vision.base import EmbeddingBackend, Embeddings, list_backends
from talkingub.weights.registry import spec
from tests.unit.metrics.fakes import smooth_frames, write_i3d

IDENTITY = {"aed", "csim"}
DISTRIBUTIONS = {"fid", "fvd"}


def test_every_metric_states_its_facts_consistently() -> None:
    backends = set(list_backends())
    for name in METRICS.names():
        facts = metric_class(name)
        assert facts.metric_name == name
        assert isinstance(facts.higher_is_better, bool), name
        assert facts.kind == ("distribution" if name in DISTRIBUTIONS else "frame"), name
        assert facts.measures_identity == (name in IDENTITY), name
        if facts.default_backend:
            assert facts.default_backend in backends, name
        else:
            assert not facts.takes_missing, name  # no detector: no missing detection
        for weights in facts.weights:  # entries of the weights registry naming this metric
            assert name in spec(weights).used_by, (name, weights)
    assert {n for n in METRICS.names() if metric_class(n).weights} == {"lpips", "fid", "fvd"}
    assert not metric_class("mkr").takes_missing and metric_class("akd").takes_missing


def test_contract_options_follow_the_class_facts() -> None:
    assert contract_options("l1", "video", "penalise") == {"averaging": "video"}
    assert contract_options("mkr", "video", "penalise") == {"averaging": "video"}
    assert contract_options("akd", "video", "penalise", {"penalty": 3.0}) == {
        "averaging": "video",
        "missing": "penalise",
        "penalty": 3.0,
    }
    assert contract_options("fvd", "video", "penalise", {"clip_length": 4}) == {"clip_length": 4}
    given = {"averaging": "frame"}
    assert contract_options("csim", "video", "skip", given)["averaging"] == "frame"
    assert given == {"averaging": "frame"}  # the caller's options are not changed


class CountingEmbeddings(EmbeddingBackend):
    """Embeddings from pixel means; frames whose top-left pixel is dark have no face."""

    name, kind, dim = "counting-emb", "face-embedding", 6

    def __init__(self) -> None:
        self.calls: list[int] = []

    @property
    def version(self) -> str:
        return "counting-1"

    def __call__(self, images: np.ndarray) -> Embeddings:
        self.calls.append(len(images))
        vectors = images[:, ::16, ::16, :].reshape(len(images), -1)[:, :6].astype(np.float64)
        detected = images[:, 0, 0, 0] > 40
        vectors[~detected] = np.nan
        return Embeddings(vectors, detected, self.name, self.version)


def _scorer(backend: CountingEmbeddings) -> MetricScorer:
    return MetricScorer(
        ("l1", "aed", "csim"), lambda n: {"backend": backend} if n in IDENTITY else {}
    )


def _values(scorer: MetricScorer) -> dict[str, float]:
    return {r.name: r.value for r in scorer.results()}


def test_detectors_run_once_per_stream_and_identity_is_scored_against_the_source() -> None:
    pred, driving = smooth_frames(1, 6, 32), smooth_frames(2, 6, 32)
    source = np.repeat(smooth_frames(5, 1, 32), 6, axis=0)
    backend = CountingEmbeddings()
    scorer = _scorer(backend)
    scorer.update(0, pred, {"driving": driving, "source": source})
    assert backend.calls == [6, 6, 6]  # pred, driving, source: once each for aed and csim
    against_source = _scorer(CountingEmbeddings())
    against_source.update(0, pred, {"driving": source})
    against_driving = _scorer(CountingEmbeddings())
    against_driving.update(0, pred, {"driving": driving})
    values = _values(scorer)
    assert values["aed"] == _values(against_source)["aed"] != _values(against_driving)["aed"]
    assert values["l1"] == _values(against_driving)["l1"]  # pixels: the driving frames


def test_batches_and_a_first_frame_do_not_change_the_values() -> None:
    pred, driving = smooth_frames(4, 9, 32), smooth_frames(5, 9, 32)
    whole = _scorer(CountingEmbeddings())
    whole.update(0, pred[2:], {"driving": driving[2:]})
    offset = _scorer(CountingEmbeddings())
    offset.update(0, pred, {"driving": driving}, first_frame=2)
    batched = _scorer(CountingEmbeddings())
    for start in range(2, 9, 3):
        batched.update(0, pred[start : start + 3], {"driving": driving[start : start + 3]})
    expected = whole.results()
    assert expected[0].name == "l1" and expected[0].frames == 7
    assert offset.results() == expected
    assert batched.results() == expected


def test_unavailable_metrics_come_last_as_na_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from talkingub.errors import DependencyError
    from talkingub.metrics import suite

    def cannot_load(name: str, **_: object) -> None:
        raise DependencyError(f"backend {name} needs a package that is not installed")

    monkeypatch.setattr(suite, "create_backend", cannot_load)
    scorer = MetricScorer(("akd", "l1", "psnr"), lambda n: {}, "na")
    scorer.update(0, smooth_frames(6, 2, 32), {"driving": smooth_frames(7, 2, 32)})
    results = scorer.results()
    assert [r.name for r in results] == ["l1", "psnr", "akd"]
    assert math.isnan(results[-1].value) and "not installed" in results[-1].note
    assert results[-1].higher_is_better is False and results[-1].unit == ""


def test_the_bench_reports_a_frechet_distance_with_too_few_clips_as_na(tmp_path: Path) -> None:
    i3d = write_i3d(tmp_path / "i3d.pt")
    config = EvalConfig(options={"fvd": {"weights": str(i3d)}})  # 16-frame clips: none here
    scorer = Scorer([Variant("cross", ("l1", "fvd"))], config)
    scorer.score(0, smooth_frames(8, 5, 32), {"driving": smooth_frames(9, 5, 32)})
    rows = {row["metric"]: row for row in scorer.results()}
    assert math.isfinite(rows["l1"]["value"])
    assert math.isnan(rows["fvd"]["value"]) and "at least 2 samples" in rows["fvd"]["note"]
