"""Pretrained loss teachers: training refuses up front with the exact fetch command when their
weights are missing, unless the protocol (`--without-pretrained-losses`) drops those terms."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from talkingub.bench.pretrained import (
    dropped_terms,
    model_config,
    pretrained_terms,
    require_weights,
)
from talkingub.bench.protocol import Protocol, load_protocol
from talkingub.cli import main
from talkingub.errors import WeightsMissingError
from talkingub.models.registry import load_model_config
from talkingub.weights.registry import local_path


@pytest.fixture(autouse=True)
def _empty_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A weights cache of this test's own (the shared test home may hold files)."""
    monkeypatch.setenv("TALKINGUB_WEIGHTS", str(tmp_path / "weights"))


def _paper(*methods: str, without: bool = False) -> Protocol:
    protocol = load_protocol("paper-gpu", methods=methods)
    return dataclasses.replace(protocol, without_pretrained_losses=without)


@pytest.mark.parametrize(
    ("method", "variant", "terms"),
    [
        ("fomm", "paper", ["perceptual"]),
        ("lia", "paper", ["perceptual"]),
        ("osfv", "paper", ["perceptual", "head_pose"]),
        ("ptus", "paper", ["perceptual", "head_pose"]),
        ("osfv", "tiny", []),
        ("fomm", "tiny", []),
    ],
)
def test_configs_name_the_terms_that_need_pretrained_weights(
    method: str, variant: str, terms: list[str]
) -> None:
    found = pretrained_terms(load_model_config(method, variant))
    assert [t.term for t in found] == terms


def test_missing_weights_refuse_with_the_exact_fetch_command() -> None:
    with pytest.raises(WeightsMissingError) as info:
        require_weights(["fomm", "osfv"], _paper("fomm", "osfv"))
    message = str(info.value)
    assert "run `talkingub weights fetch vgg19 hopenet`" in message
    assert "hopenet for osfv" in message and "vgg19 for fomm, osfv" in message
    assert "--without-pretrained-losses" in message


def test_only_the_absent_file_is_named() -> None:
    path = local_path("vgg19")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"present")
    with pytest.raises(WeightsMissingError, match=r"`talkingub weights fetch hopenet`"):
        require_weights(["fomm", "osfv"], _paper("fomm", "osfv"))
    require_weights(["fomm"], _paper("fomm"))  # FOMM needs VGG-19 only


def test_the_opt_out_switches_the_terms_off_and_needs_no_weights() -> None:
    protocol = _paper("osfv", without=True)
    config = model_config("osfv", protocol)
    assert (config.perceptual, config.head_pose_loss) == ("off", False)
    assert dropped_terms("osfv", protocol) == ["perceptual", "head_pose"]
    assert dropped_terms("osfv", _paper("osfv")) == []
    assert model_config("osfv", _paper("osfv")).perceptual == "pretrained"
    require_weights(["osfv"], protocol)


def test_bench_train_refuses_before_reading_the_build(tmp_path: Path) -> None:
    args = ["bench", "train", str(tmp_path), "-o", str(tmp_path / "out")]
    args += ["--protocol", "paper-gpu", "--methods", "mraa,osfv", "--device", "cpu"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == WeightsMissingError.exit_code, result.output
    assert "talkingub weights fetch vgg19 hopenet" in result.output
    assert not (tmp_path / "out").exists()


def test_dropped_terms_name_what_each_ptus_variant_logs() -> None:
    """PTUS's head-pose switch drives L_cam and L_B; its one-estimator ablations log L_B only."""
    expected = {
        "ptus": ["perceptual", "head_pose", "body_pose"],
        "ptus-no-fbmd": ["perceptual", "body_pose"],
        "ptus-no-fbmd-lgmd": ["perceptual", "body_pose"],
    }
    for method, terms in expected.items():
        assert dropped_terms(method, _paper(method, without=True)) == terms, method
