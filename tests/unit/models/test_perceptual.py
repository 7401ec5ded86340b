"""The VGG-19 perceptual loss loads its weights only through the weights registry."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

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


#: Kernel sizes of the official rule, 2 * round(4 * sigma) + 1 with sigma = (1/s - 1) / 2
#: (AntiAliasInterpolation2d in modules/util.py of first-order-model@69c890159ca9,
#: articulated-animation@6b2029788185 and Thin-Plate-Spline-Motion-Model@0ec14f6c06f5).
OFFICIAL_KERNEL_SIZES = {0.5: 5, 0.25: 13, 0.125: 29}


def official_downsample_by_hand(image: torch.Tensor, scale: float) -> torch.Tensor:
    """The official rule written out in float64: separable Gaussian taps exp(-d^2 / (2 sigma^2))
    around the kernel centre, normalised to sum 1, zero padding of size // 2, depthwise
    convolution, then every (1/scale)-th pixel from the first."""
    sigma = (1.0 / scale - 1.0) / 2.0
    size = 2 * round(sigma * 4) + 1
    assert size == OFFICIAL_KERNEL_SIZES[scale]
    centre = (size - 1) / 2
    taps = torch.tensor(
        [math.exp(-((k - centre) ** 2) / (2 * sigma**2)) for k in range(size)],
        dtype=torch.float64,
    )
    kernel = taps[:, None] * taps[None, :]
    kernel = kernel / kernel.sum()
    channels = image.shape[1]
    weight = kernel.expand(channels, 1, size, size)
    padded = F.pad(image.double(), [size // 2] * 4)
    blurred = F.conv2d(padded, weight, groups=channels)
    step = round(1.0 / scale)
    return blurred[:, :, ::step, ::step]


def test_gaussian_pyramid_equals_the_official_rule_by_hand() -> None:
    """Compared: each level of our `gaussian` pyramid against `official_downsample_by_hand`
    (float64) to 1e-6; the `antialias` pyramid is a different kernel."""
    torch.manual_seed(0)
    image = torch.rand(2, 3, 64, 64)
    scales = (1.0, 0.5, 0.25, 0.125)
    gaussian = perceptual.PerceptualLoss(scales, mode="off", downsample="gaussian")
    antialias = perceptual.PerceptualLoss(scales, mode="off", downsample="antialias")
    for scale, ours, other in zip(scales, gaussian.pyramid(image), antialias.pyramid(image)):
        if scale == 1.0:
            assert torch.equal(ours, image) and torch.equal(other, image)
            continue
        expected = official_downsample_by_hand(image, scale)
        assert ours.shape == expected.shape == other.shape
        assert (ours.double() - expected).abs().max().item() < 1e-6, scale
        assert (other.double() - expected).abs().max().item() > 1e-3, scale


def test_gaussian_perceptual_loss_equals_the_hand_computed_sum() -> None:
    """Compared: the loss value against sum over scales and layers of w * mean |VGG(level(pred))
    - VGG(level(target))| with the levels computed by hand (same random VGG)."""
    torch.manual_seed(0)
    scales, weights = (1.0, 0.5, 0.25), (1.0, 2.0, 3.0, 4.0, 5.0)
    loss = perceptual.PerceptualLoss(scales, weights, mode="random", downsample="gaussian")
    pred, target = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    assert loss.vgg is not None
    expected = 0.0
    for scale in scales:
        p, t = pred, target
        if scale != 1.0:
            p = official_downsample_by_hand(pred, scale).float()
            t = official_downsample_by_hand(target, scale).float()
        for w, fp, ft in zip(weights, loss.vgg(p), loss.vgg(t)):
            expected += w * (fp - ft).abs().mean().item()
    assert loss(pred, target).item() == pytest.approx(expected, rel=1e-5)


def test_unknown_pyramid_kernel_is_refused() -> None:
    with pytest.raises(ValueError, match="gaussian"):
        perceptual.PerceptualLoss(mode="off", downsample="bicubic")  # type: ignore[arg-type]
