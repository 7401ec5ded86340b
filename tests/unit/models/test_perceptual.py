"""The VGG-19 perceptual loss loads its weights only through the weights registry."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from talkingub.errors import WeightsMissingError
from talkingub.io.atomic import sha256_file
from talkingub.weights import WEIGHTS
from talkingub.zoo.common import perceptual


def test_missing_weights_name_the_fetch_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALKINGUB_WEIGHTS", str(tmp_path))
    with pytest.raises(WeightsMissingError, match="talkingub weights fetch vgg19"):
        perceptual.PerceptualLoss(mode="pretrained")


def test_a_file_with_the_wrong_hash_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALKINGUB_WEIGHTS", str(tmp_path))
    (tmp_path / perceptual.VGG19.filename).write_bytes(b"not the weights")
    with pytest.raises(WeightsMissingError, match="--force"):
        perceptual.PerceptualLoss(mode="pretrained")


def test_pretrained_file_is_loaded_into_the_feature_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from torchvision.models import vgg19

    monkeypatch.setenv("TALKINGUB_WEIGHTS", str(tmp_path))
    torch.manual_seed(3)
    state = vgg19(weights=None).state_dict()  # a correctly shaped, randomly initialised file
    path = tmp_path / perceptual.VGG19.filename
    torch.save(state, path)
    pinned = dataclasses.replace(perceptual.VGG19, sha256=sha256_file(path))
    monkeypatch.setitem(WEIGHTS, "vgg19", pinned)
    loss = perceptual.PerceptualLoss(mode="pretrained")
    first_conv = loss.vgg.slices[0][0]  # type: ignore[union-attr,index]
    assert torch.equal(first_conv.weight, state["features.0.weight"])
    x = torch.rand(1, 3, 64, 64)
    assert loss(x, x).item() == 0.0
    assert loss(x, x.flip(-1)).item() > 0.0


def test_off_mode_drops_the_term() -> None:
    x = torch.rand(1, 3, 32, 32)
    assert perceptual.PerceptualLoss(mode="off")(x, 1 - x).item() == 0.0
