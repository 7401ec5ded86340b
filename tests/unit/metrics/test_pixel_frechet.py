"""Pixel metrics against scikit-image, LPIPS and FID against torchmetrics' public classes,
LPIPS/FID/FVD loading random weight files, FVD's clip contract, and the float64 Fréchet
distance against scipy."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
import torchvision
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from talkingub.errors import ConfigError, WeightsMissingError
from talkingub.metrics import (
    LPIPS,
    PSNR,
    SSIM,
    ClipStream,
    FrechetDistance,
    FrechetInceptionDistance,
    FrechetVideoDistance,
    L1Distance,
    frechet_from_features,
    l1_distance,
    lpips,
    psnr,
    ssim,
)
from talkingub.metrics.pixel import build_lpips_net
from tests.unit.metrics.fakes import write_i3d


def images(seed: int, n: int = 4, size: int = 48) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, size // 8, size // 8, generator=g)
    return torch.nn.functional.interpolate(low, size=(size, size), mode="bilinear").clamp(0, 1)


PRED, TARGET = images(1), images(2)


def test_l1_psnr_ssim_match_reference() -> None:
    p, t = PRED.double().numpy(), TARGET.double().numpy()
    assert float(l1_distance(PRED, TARGET)) == pytest.approx(np.abs(p - t).mean(), rel=1e-6)
    ref_psnr = np.mean([peak_signal_noise_ratio(t[i], p[i], data_range=1.0) for i in range(4)])
    assert float(psnr(PRED, TARGET)) == pytest.approx(ref_psnr, rel=1e-6)


def test_ssim_matches_scikit_image_at_256px() -> None:
    # Same Gaussian window (σ=1.5, 11 px) and population covariances; with the default
    # border="reflect" (torchmetrics reflect-pads by 5 px and averages the whole map, while
    # scikit-image averages only the windows inside the image) the value moves by < 0.01 at
    # 256 px; border="valid" is scikit-image's (tests/unit/metrics/test_contracts.py).
    target = images(5, n=1, size=256)
    noise = torch.rand(target.shape, generator=torch.Generator().manual_seed(6)) * 0.1
    pred = (target + noise).clamp(0, 1)
    p, t = pred.double().numpy(), target.double().numpy()
    ref = [
        structural_similarity(
            t[i].transpose(1, 2, 0),
            p[i].transpose(1, 2, 0),
            channel_axis=2,
            data_range=1.0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        for i in range(1)
    ]
    assert float(ssim(pred, target)) == pytest.approx(np.mean(ref), abs=1e-2)
    assert float(ssim(pred, target, border="valid")) == pytest.approx(np.mean(ref), abs=1e-5)
    assert float(ssim(target, target)) == pytest.approx(1.0)


def test_uint8_inputs_and_batches_equal_one_shot() -> None:
    for cls in (L1Distance, PSNR, SSIM):
        metric = cls()
        metric.update(PRED[:1], TARGET[:1])
        metric.update(PRED[1:], TARGET[1:])
        one = cls()
        one.update(PRED, TARGET)
        assert float(metric.compute()) == pytest.approx(float(one.compute()), rel=1e-12)
    as_bytes = (PRED * 255).round().to(torch.uint8)
    assert float(l1_distance(as_bytes, as_bytes)) == 0.0


@pytest.fixture(scope="module")
def alexnet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("w") / "alexnet.pth"
    torch.manual_seed(0)
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), path)
    return path


def test_lpips_matches_torchmetrics_public_class(
    alexnet_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # torchmetrics' public class loads the backbone through torchvision's own weights code,
    # which takes a file already in the torch hub cache instead of downloading it: an
    # independent route from the same file to the LPIPS network.
    from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

    hub = tmp_path / "torch-home" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    shutil.copy(alexnet_file, hub / "alexnet-owt-7be5be79.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    public = LearnedPerceptualImagePatchSimilarity(net_type="alex", normalize=True)
    public.update(PRED, TARGET)
    expected = float(public.compute())
    metric = LPIPS(weights=alexnet_file)
    metric.update(PRED[:1], TARGET[:1])
    metric.update(PRED[1:], TARGET[1:])
    assert expected > 0
    assert float(metric.compute()) == pytest.approx(expected, rel=1e-5)
    net = build_lpips_net(alexnet_file)
    assert float(lpips(PRED, TARGET, net=net)) == pytest.approx(expected, rel=1e-5)
    assert float(lpips(PRED, PRED, weights=alexnet_file)) == 0.0


class TinyFeatures(torch.nn.Module):
    """Small deterministic feature extractor (8-d, float64 out) for uint8 or float images."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.conv = torch.nn.Conv2d(3, 8, 5, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
        return torch.tanh(self.conv(x)).mean(dim=(2, 3)).double()


def test_fid_matches_torchmetrics_with_the_same_extractor() -> None:
    from torchmetrics.image.fid import FrechetInceptionDistance as TorchmetricsFID

    extractor = TinyFeatures().eval()
    real = images(10, n=64, size=32)
    fake = images(11, n=48, size=32) * 0.7 + 0.2
    reference = TorchmetricsFID(feature=extractor)
    ours = FrechetDistance(extractor, 8)
    for chunk in real.split(20):
        reference.update(chunk, real=True)
        ours.update(chunk, real=True)
    for chunk in fake.split(20):
        reference.update(chunk, real=False)
        ours.update(chunk, real=False)
    expected = float(reference.compute())
    assert expected > 1e-3
    assert float(ours.compute()) == pytest.approx(expected, rel=1e-10)


def test_missing_weights_name_the_fetch_command() -> None:
    with pytest.raises(WeightsMissingError, match="talkingub weights fetch alexnet-lpips"):
        LPIPS()
    with pytest.raises(WeightsMissingError, match="talkingub weights fetch inception-fid"):
        FrechetInceptionDistance()
    with pytest.raises(WeightsMissingError, match="talkingub weights fetch i3d-fvd"):
        FrechetVideoDistance()


def test_frechet_distance_matches_scipy_sqrtm() -> None:
    g = torch.Generator().manual_seed(0)
    real = torch.randn(300, 24, generator=g, dtype=torch.float64)
    fake = (
        torch.randn(200, 24, generator=g, dtype=torch.float64)
        @ torch.randn(24, 24, generator=g, dtype=torch.float64)
        * 0.3
        + 0.5
    )
    a, b = real.numpy(), fake.numpy()
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean)
    assert float(frechet_from_features(real, fake)) == pytest.approx(expected, rel=1e-9)
    metric = FrechetDistance(torch.nn.Identity(), 24)
    for chunk in real.split(70):
        metric.update(chunk, real=True)
    for chunk in fake.split(90):
        metric.update(chunk, real=False)
    assert float(metric.compute()) == pytest.approx(expected, rel=1e-9)
    assert metric.compute().dtype == torch.float64


@pytest.mark.slow
def test_fid_inception_loads_local_weights_file(tmp_path: Path) -> None:
    path = tmp_path / "inception.pth"
    model = torchvision.models.inception_v3(
        weights=None, aux_logits=False, init_weights=False, num_classes=1008
    )
    torch.save(model.state_dict(), path)
    fid = FrechetInceptionDistance(weights=path)
    fid.update(images(3, n=2, size=32), real=True)
    fid.update(images(4, n=2, size=32), real=False)
    value = float(fid.compute())
    assert np.isfinite(value) and value >= 0
    assert str(getattr(fid.extractor, "tag", "")).startswith("inception.pth@")


def test_fvd_loads_torchscript_file(tmp_path: Path) -> None:
    fvd = FrechetVideoDistance(weights=write_i3d(tmp_path / "i3d.pt"))
    clips = torch.rand(6, 3, 4, 40, 56)
    feats = fvd.extractor(clips)
    assert feats.shape == (6, 400)
    fvd.update(clips[:3], real=True)
    fvd.update(clips[3:], real=False)
    assert np.isfinite(float(fvd.compute()))
    with pytest.raises(ConfigError, match=r"clips \[N, 3, T, H, W\]"):
        fvd.extractor(clips[0])


def test_fvd_cuts_a_video_into_clips_and_streams_agree(tmp_path: Path) -> None:
    path = write_i3d(tmp_path / "i3d.pt")
    video = (torch.rand(10, 3, 24, 24) * 255).round().to(torch.uint8)
    whole = FrechetVideoDistance(weights=path, clip_length=4)
    whole.update(video, real=True)
    by_hand = FrechetVideoDistance(weights=path, clip_length=4)
    clips = torch.stack([video[0:4], video[4:8]]).permute(0, 2, 1, 3, 4)  # frames 8, 9 dropped
    by_hand.update(clips, real=True)
    assert int(whole.real_n) == 2
    torch.testing.assert_close(whole.real_sum, by_hand.real_sum, rtol=1e-12, atol=0)
    stream = ClipStream(4)
    chunks = [stream.push(batch) for batch in video.split(3)]
    assert [len(c) for c in chunks] == [0, 4, 4, 0]
    assert torch.equal(torch.cat(chunks), video[:8])
    whole.update(video[:3], real=True)  # shorter than one clip: adds nothing
    assert int(whole.real_n) == 2
