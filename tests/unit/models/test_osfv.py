"""OSFV (face-vid2vid): reference size, head-pose weights gate, motion conventions, overfit."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from talkingub import create_model
from talkingub.bench.train import make_step
from talkingub.errors import WeightsMissingError
from talkingub.models.registry import load_model_config, model_spec
from talkingub.zoo.osfv.config import EquivarianceConfig, LossConfig
from talkingub.zoo.osfv.head_pose import bins_to_degrees, rotation_matrix, transform_keypoints
from talkingub.zoo.osfv.losses import RandomTPS, keypoint_prior

# Parameter counts derived from the module definitions of the public reimplementation
# zhanglonghao1992/One-Shot_Free-View_Neural_Talking_Head_Synthesis (config/vox-256.yaml,
# modules/{keypoint_detector,generator,dense_motion,discriminator}.py), layer by layer:
#   KPDetector 41.940M: 2-D encoder 3->64->...->1024 (6.27M), 1x1 conv to 16384 (16.79M),
#     3-D decoder 1024->512->...->32 (18.86M), 3x3x3 keypoint head (0.01M)
#   HEEstimator 30.255M: ResNet-50-style bottlenecks to 2048 + yaw/pitch/roll/t/exp heads
#   OcclusionAwareGenerator (the original, non-SPADE one) 53.101M: appearance extractor
#     0.844M + dense motion network 43.546M + decoder 8.712M
# Total counted = generator side (everything trained by the generator optimisers) 125.296M;
# the multi-scale discriminator (2.759M) is separate, like the "+2.8M discriminator" of FOMM.
REFERENCE_TOTAL = 125.3e6
REFERENCE_MODULES = {
    "keypoint detector": ("motion.detector", 41.940e6),
    "head pose estimator": ("motion.estimator", 30.255e6),
    "appearance extractor": ("appearance", 0.844e6),
    "motion field estimator": ("motion_field", 43.546e6),
    "generator decoder": ("generator", 8.712e6),
    "discriminator": ("discriminator", 2.759e6),
}
FACE_BOX = (0.32, 0.04, 0.76, 0.50)  # fixed box around the presenter's face (x0, y0, x1, y1)
OVERFIT_FRAMES = (0, 20, 40, 60)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_config_parameter_count_matches_reference() -> None:
    cfg = load_model_config("osfv", "paper")
    with torch.device("meta"):
        model = model_spec("osfv").cls(cfg)
    generator_side = sum(p.numel() for p in model.parameter_groups()["generator"])
    assert abs(generator_side - REFERENCE_TOTAL) / REFERENCE_TOTAL < 0.02, generator_side
    for label, (path, expected) in REFERENCE_MODULES.items():
        got = count(model.get_submodule(path))
        assert abs(got - expected) / expected < 0.02, (label, got)


def test_paper_feature_volume_is_32_by_16_by_64x64() -> None:
    cfg = load_model_config("osfv", "paper")
    with torch.device("meta"):
        model = model_spec("osfv").cls(cfg)
        volume = model.appearance(torch.empty(1, 3, 256, 256))
    assert tuple(volume.shape) == (1, 32, 16, 64, 64)


def test_training_refuses_without_hopenet_weights() -> None:
    model = create_model("osfv", "tiny", head_pose_loss=True)
    with pytest.raises(
        WeightsMissingError, match=r"talkingub weights fetch hopenet.*head_pose_loss"
    ):
        model.objective.prepare()


def test_rotation_matrices_are_rotations_and_bins_span_99_degrees() -> None:
    angles = torch.tensor([-80.0, 0.0, 35.0])
    rot = rotation_matrix(angles, angles.flip(0), angles.roll(1))
    eye = torch.eye(3).expand(3, 3, 3)
    assert torch.allclose(rot @ rot.transpose(1, 2), eye, atol=1e-5)
    assert torch.allclose(torch.linalg.det(rot), torch.ones(3), atol=1e-5)
    peaked = torch.full((2, 66), -1e4)
    peaked[0, 0], peaked[1, 65] = 0.0, 0.0
    assert torch.allclose(bins_to_degrees(peaked), torch.tensor([-99.0, 96.0]))


def test_keypoint_transformation_is_rotation_translation_expression() -> None:
    canonical = torch.randn(1, 5, 3)
    rot = rotation_matrix(torch.tensor([30.0]), torch.tensor([0.0]), torch.tensor([0.0]))
    t, e = torch.tensor([[0.1, -0.2, 0.0]]), torch.randn(1, 5, 3) * 0.01
    kp = transform_keypoints(canonical, rot, t, e)
    expected = torch.einsum("ij,kj->ki", rot[0], canonical[0]) + t + e[0]
    assert torch.allclose(kp[0], expected, atol=1e-6)


def test_keypoint_prior_penalises_clustered_keypoints() -> None:
    cfg = LossConfig()
    spread = torch.tensor([[[-0.5, -0.5, 0.33], [0.5, -0.5, 0.33], [0.0, 0.5, 0.33]]])
    clustered = spread * 0.05 + torch.tensor([0.0, 0.0, 0.33])
    assert keypoint_prior(spread, cfg) < 1e-6
    assert keypoint_prior(clustered, cfg) > 1.0


def test_equivariance_transform_is_identity_without_noise() -> None:
    cfg = EquivarianceConfig(sigma_affine=0.0, sigma_tps=0.0)
    image = torch.rand(2, 3, 16, 16)
    tps = RandomTPS(2, cfg, image)
    assert torch.allclose(tps.warp_image(image), image, atol=1e-5)


def test_relative_mode_with_a_still_driver_repeats_the_source_pose() -> None:
    torch.manual_seed(0)
    model = create_model("osfv", "tiny").eval()
    source, driver = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = model.animate(source, torch.stack([driver, driver], 1), mode="relative")
        canonical = model.motion.detector(source)
        kp = model.motion.observe(canonical, source).keypoints
        expected = model.render(model.appearance(source), kp, kp)
    assert torch.allclose(out[:, 0], expected, atol=1e-5)
    assert torch.allclose(out[:, 1], expected, atol=1e-5)


def test_state_dict_round_trip_excludes_frozen_teachers() -> None:
    torch.manual_seed(0)
    model = create_model("osfv", "tiny", perceptual="off")
    batch = {"source": torch.rand(2, 3, 64, 64), "driving": torch.rand(2, 3, 64, 64)}
    optimizers = {g: torch.optim.Adam(p, lr=1e-3) for g, p in model.parameter_groups().items()}
    make_step(model, optimizers)(batch)
    state = model.state_dict()
    assert not any("vgg" in k or "hopenet" in k for k in state)
    clone = create_model("osfv", "tiny", perceptual="off")
    clone.load_state_dict(state)
    model.eval(), clone.eval()
    driving = batch["driving"].unsqueeze(1)
    with torch.no_grad():
        assert torch.equal(
            model.reconstruct(batch["source"], driving), clone.reconstruct(batch["source"], driving)
        )


# --- overfit on real frames -----------------------------------------------------------------
def presenter_batch(path: Path, size: int, face_size: int) -> dict[str, torch.Tensor]:
    """Source = frame 0, driving = three later frames, with face crops from FACE_BOX."""
    frames = []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in OVERFIT_FRAMES:
                frames.append(torch.from_numpy(np.asarray(frame.to_ndarray(format="rgb24"))))
            if i >= max(OVERFIT_FRAMES):
                break
    video = torch.stack(frames).permute(0, 3, 1, 2).float() / 255.0
    h, w = video.shape[-2:]
    x0, y0, x1, y1 = FACE_BOX
    face = video[..., int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)]
    full = F.interpolate(video, size=(size, size), mode="area")
    face = F.interpolate(face, size=(face_size, face_size), mode="area")
    n = len(frames) - 1
    box = torch.tensor([FACE_BOX]).repeat(n, 1)
    return {
        "source": full[:1].repeat(n, 1, 1, 1), "driving": full[1:],
        "source_face": face[:1].repeat(n, 1, 1, 1), "driving_face": face[1:],
        "source_face_box": box, "driving_face_box": box.clone(),
    }  # fmt: skip


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Tiny convolutions run fastest on one thread; more threads thrash on a shared 2-core box."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def overfit(name: str, video: Path, steps: int) -> tuple[float, float]:
    """Train the tiny config (VGG term off for CPU speed) on one batch; first / last-10 L1."""
    with single_thread():
        return _overfit(name, video, steps)


def _overfit(name: str, video: Path, steps: int) -> tuple[float, float]:
    torch.manual_seed(0)
    model = create_model(name, "tiny", perceptual="off").train()
    cfg = model.config
    batch = presenter_batch(video, cfg.image_size, int(getattr(cfg, "face_size", cfg.image_size)))
    optimizers = {
        g: torch.optim.Adam(p, lr=2e-3, betas=cfg.optim.betas)
        for g, p in model.parameter_groups().items()
    }
    step = make_step(model, optimizers)
    history = [step(batch)["generator/l1"] for _ in range(steps)]
    return history[0], float(np.mean(history[-10:]))


OVERFIT_STEPS = 40
OVERFIT_FACTOR = 3.0  # the reconstruction L1 must fall at least 3-fold


@pytest.mark.slow
def test_tiny_osfv_overfits_presenter_frames(presenter_chest_up_mp4: Path) -> None:
    first, last = overfit("osfv", presenter_chest_up_mp4, OVERFIT_STEPS)
    assert last < first / OVERFIT_FACTOR, (first, last)
