"""Unit tests of the pieces FOMM, MRAA and TPSMM share (talkingub/zoo/keypoint_common), and the
overfit helper their slow tests use."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import av
import pytest
import torch
import torch.nn.functional as F

from talkingub import create_model
from talkingub.bench.train import make_step
from talkingub.config import load_yaml
from talkingub.models.base import SynthesisModel
from talkingub.models.optim import OptimConfig
from talkingub.models.registry import load_model_config, model_spec
from talkingub.zoo.keypoint_common.animation import animate_sequence
from talkingub.zoo.keypoint_common.antialias import AntiAliasDownsample, gaussian_kernel
from talkingub.zoo.keypoint_common.avd import AVDNetwork, random_scale
from talkingub.zoo.keypoint_common.dense import (
    blend_motions,
    deform_per_motion,
    local_affine_motions,
)
from talkingub.zoo.keypoint_common.equivariance import (
    RandomTPS,
    TransformConfig,
    equivariance_jacobian_loss,
    equivariance_value_loss,
)
from talkingub.zoo.keypoint_common.geometry import (
    coordinate_grid,
    gaussian_heatmaps,
    heatmap_covariance,
    heatmap_mean,
)
from talkingub.zoo.keypoint_common.hourglass import Hourglass
from talkingub.zoo.keypoint_common.motion import (
    convex_hull_area,
    movement_scale,
    relative_jacobian,
    relative_points,
)
from talkingub.zoo.keypoint_common.training import sum_losses

NO_NOISE = TransformConfig(sigma_affine=0.0, sigma_tps=0.0, points_tps=5)


def rotation(angle: float) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, -s], [s, c]])


# --- geometry ----------------------------------------------------------------------------------
def test_coordinate_grid_spans_minus_one_to_one_at_pixel_centres() -> None:
    grid = coordinate_grid(3, 5)
    assert grid.shape == (3, 5, 2)
    assert grid[0, 0].tolist() == [-1.0, -1.0]
    assert grid[-1, -1].tolist() == [1.0, 1.0]
    assert grid[1, 2].tolist() == [0.0, 0.0]


def test_heatmap_mean_of_a_one_hot_map_is_that_pixels_coordinate() -> None:
    heat = torch.zeros(1, 1, 9, 9)
    heat[0, 0, 2, 6] = 1.0
    assert torch.allclose(heatmap_mean(heat), coordinate_grid(9, 9)[2, 6].view(1, 1, 2))


def test_heatmap_covariance_recovers_a_gaussians_covariance() -> None:
    r = rotation(0.5)
    covar = r @ torch.diag(torch.tensor([0.04, 0.01])) @ r.T
    centre = torch.tensor([[[0.1, -0.2]]])
    heat = gaussian_heatmaps(centre, 129, 129, covar.view(1, 1, 2, 2))
    heat = heat / heat.sum(dim=(-1, -2), keepdim=True)
    mean = heatmap_mean(heat)
    assert torch.allclose(mean, centre, atol=1e-4)
    assert torch.allclose(heatmap_covariance(heat, mean)[0, 0], covar, atol=1e-4)


def test_isotropic_and_covariance_heatmaps_agree() -> None:
    centres = torch.rand(2, 3, 2) * 2 - 1
    iso = gaussian_heatmaps(centres, 16, 16, 0.01)
    full = gaussian_heatmaps(centres, 16, 16, 0.01 * torch.eye(2).expand(2, 3, 2, 2))
    assert torch.allclose(iso, full, atol=1e-6)


# --- blocks ------------------------------------------------------------------------------------
def test_hourglass_reports_the_channels_it_returns() -> None:
    net = Hourglass(block_expansion=4, in_features=5, num_blocks=3, max_features=12)
    outs = net.forward_all(torch.rand(2, 5, 16, 16))
    assert [o.shape[1] for o in outs] == net.out_channels
    assert outs[-1].shape == (2, 4 + 5, 16, 16)  # block_expansion + in_features at full size


def test_antialias_kernel_is_normalised_and_keeps_constants() -> None:
    assert gaussian_kernel(0.25).sum().item() == pytest.approx(1.0)
    down = AntiAliasDownsample(3, 0.25)
    out = down(torch.full((1, 3, 32, 32), 0.7))
    assert out.shape == (1, 3, 8, 8)
    assert torch.allclose(out[..., 2:-2, 2:-2], torch.full((1, 3, 4, 4), 0.7))


# --- dense motion pieces -------------------------------------------------------------------------
def test_local_affine_motion_sends_driving_keypoint_to_source_keypoint() -> None:
    src, drv = torch.tensor([[[0.2, -0.4]]]), torch.tensor([[[-0.5, 0.5]]])
    linear = (rotation(0.3) * 1.2).view(1, 1, 2, 2)
    motions = local_affine_motions(src, drv, linear, 5, 5)  # drv lies on grid pixel (4, 1)
    assert torch.allclose(motions[0, 0, 3, 1], src[0, 0], atol=1e-6)
    step = motions[0, 0, 3, 2] - motions[0, 0, 3, 1]  # one pixel right = +0.5 in x
    assert torch.allclose(step, linear[0, 0] @ torch.tensor([0.5, 0.0]), atol=1e-6)


def test_identity_motion_reproduces_the_source_and_one_hot_masks_select() -> None:
    source = torch.rand(2, 3, 8, 8)
    grid = coordinate_grid(8, 8).expand(2, 2, 8, 8, 2)
    out = deform_per_motion(source, grid, align_corners=True)
    assert torch.allclose(out[:, 1], source, atol=1e-5)
    moved = grid + 0.1
    masks = torch.zeros(2, 2, 8, 8)
    masks[:, 1] = 1.0
    assert torch.allclose(
        blend_motions(masks, torch.stack([grid[:, 0], moved[:, 1]], 1)), moved[:, 1]
    )


# --- equivariance transform ----------------------------------------------------------------------
@pytest.mark.parametrize("kernel", ["l1", "l2"])
def test_noise_free_transform_is_the_identity(kernel: str) -> None:
    transform = RandomTPS(2, NO_NOISE, kernel=kernel)  # type: ignore[arg-type]
    points = torch.rand(2, 7, 2) * 2 - 1
    assert torch.allclose(transform.warp_coordinates(points), points)
    assert torch.allclose(transform.jacobian(points), torch.eye(2).expand(2, 7, 2, 2))
    frame = torch.rand(2, 3, 16, 16)
    assert torch.allclose(transform.transform_frame(frame, align_corners=True), frame, atol=1e-5)


@pytest.mark.parametrize("kernel", ["l1", "l2"])
def test_transform_jacobian_matches_finite_differences(kernel: str) -> None:
    torch.manual_seed(0)
    transform = RandomTPS(1, TransformConfig(0.05, 0.05, 5), kernel=kernel)  # type: ignore[arg-type]
    point = torch.tensor([[[0.13, -0.31]]], dtype=torch.float64)
    transform.theta = transform.theta.double()
    transform.control_params = transform.control_params.double()
    transform.control_points = transform.control_points.double()
    eps = 1e-6
    columns = [
        (transform.warp_coordinates(point + eps * d) - transform.warp_coordinates(point - eps * d))
        / (2 * eps)
        for d in torch.eye(2, dtype=torch.float64).view(2, 1, 1, 2)
    ]
    numeric = torch.stack([c[0, 0] for c in columns], dim=-1)
    assert torch.allclose(transform.jacobian(point)[0, 0], numeric, atol=1e-6)


def test_equivariance_losses_vanish_for_consistent_predictions() -> None:
    transform = RandomTPS(1, NO_NOISE)
    points = torch.rand(1, 4, 2)
    jac = rotation(0.4).expand(1, 4, 2, 2)
    assert equivariance_value_loss(points, points, transform).item() == pytest.approx(0.0)
    assert equivariance_jacobian_loss(jac, points, jac, transform).item() == pytest.approx(
        0.0, abs=1e-6
    )
    flipped = -jac  # a PCA axis pair flipped sign: only the axis-swap fix forgives it
    assert equivariance_jacobian_loss(jac, points, flipped, transform).item() > 0.5
    assert equivariance_jacobian_loss(
        jac, points, flipped, transform, revert_axis_swap=True
    ).item() == pytest.approx(0.0, abs=1e-6)


# --- relative motion ---------------------------------------------------------------------------
def test_relative_motion_adds_the_driving_displacement_to_the_source() -> None:
    src, drv0 = torch.rand(1, 5, 2), torch.rand(1, 5, 2)
    assert torch.allclose(relative_points(src, drv0, drv0), src)
    assert torch.allclose(relative_points(src, drv0 + 0.1, drv0, 2.0), src + 0.2)


def test_relative_jacobian_transfers_the_driving_rotation() -> None:
    j_src = torch.tensor([[1.3, 0.2], [-0.1, 0.8]]).expand(1, 3, 2, 2)
    j_drv0 = torch.tensor([[0.9, -0.3], [0.4, 1.1]]).expand(1, 3, 2, 2)
    rot = rotation(0.7)
    assert torch.allclose(relative_jacobian(j_src, j_drv0, j_drv0), j_src, atol=1e-6)
    assert torch.allclose(relative_jacobian(j_src, rot @ j_drv0, j_drv0), rot @ j_src, atol=1e-5)


def test_convex_hull_area_and_movement_scale() -> None:
    square = torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.5, 0.5]])
    assert convex_hull_area(square) == pytest.approx(1.0)
    assert convex_hull_area(square[:2]) == 0.0
    scale = movement_scale((square * 3)[None], square[None])
    assert scale.flatten().tolist() == pytest.approx([3.0])
    assert movement_scale(torch.zeros(1, 4, 2), square[None]).item() == 1.0  # degenerate hull


# --- AVD ---------------------------------------------------------------------------------------
def test_avd_parameter_count_follows_its_layer_list() -> None:
    net = AVDNetwork(60, 64, 64)
    encoder = (60 * 256 + 256) + (256 * 512 + 512) + (512 * 1024 + 1024) + (1024 * 64 + 64)
    encoder += 2 * (256 + 512 + 1024)  # BatchNorm1d affine
    decoder = (128 * 1024 + 1024) + (1024 * 512 + 512) + (512 * 256 + 256) + (256 * 60 + 60)
    decoder += 2 * (1024 + 512 + 256)
    assert sum(p.numel() for p in net.parameters()) == 2 * encoder + decoder
    assert net(torch.rand(3, 60), torch.rand(3, 60)).shape == (3, 60)


def test_random_scale_applies_one_factor_pair_to_points_and_affines() -> None:
    torch.manual_seed(0)
    points, affine = torch.ones(4, 3, 2), torch.eye(2).expand(4, 3, 2, 2)
    scaled_points, scaled_affine = random_scale([points, affine], 0.25)
    assert torch.allclose(torch.diagonal(scaled_affine, dim1=-2, dim2=-1), scaled_points)
    assert scaled_points.min() >= 0.75 and scaled_points.max() <= 1.25


# --- animation loop / training helpers ---------------------------------------------------------
def test_animate_sequence_calls_transfer_with_the_initial_driving_motion() -> None:
    source, driving = torch.rand(2, 3, 4, 4), torch.rand(2, 3, 3, 4, 4) * 3
    seen = []

    def transfer(m_s: torch.Tensor, m_d: torch.Tensor, m_d0: torch.Tensor) -> torch.Tensor:
        seen.append(torch.equal(m_d0, driving[:, 0].mean((1, 2, 3))))
        return m_d

    out = animate_sequence(
        source, driving, lambda x: x.mean((1, 2, 3)), transfer, lambda src, m_s, m, frame: frame
    )
    assert all(seen) and len(seen) == 3
    assert out.shape == driving.shape
    assert torch.equal(out, driving.clamp(0, 1))


class _OneWeight(SynthesisModel):
    """One parameter and one optimiser group `g` whose loss is weight . x."""

    def __init__(self) -> None:
        super().__init__(SimpleNamespace(optim=OptimConfig()))
        self.weight = torch.nn.Parameter(torch.ones(3))

    def loss_groups(self) -> tuple[str, ...]:
        return ("g",)

    def losses(self, group: str, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"total": (self.weight * batch["x"]).sum()}


def test_optimizer_step_and_sum_losses() -> None:
    model = _OneWeight()
    weight = model.weight
    opt = torch.optim.SGD([weight], lr=0.5)
    out = make_step(model, {"g": opt})({"x": torch.ones(3)})
    assert out == {"g/total": 3.0}
    assert torch.allclose(weight.detach(), torch.full((3,), 0.5))
    assert sum_losses({}, weight).item() == 0.0


# --- the three models: configs and checkpoints ---------------------------------------------------
KEYPOINT_MODELS = ("fomm", "mraa", "tpsmm")


@pytest.mark.parametrize("name", KEYPOINT_MODELS)
def test_configs_cite_their_sources_and_have_the_required_sizes(name: str) -> None:
    spec = model_spec(name)
    assert {"paper", "tiny"} <= set(spec.variants())
    for variant, size, perceptual in (("paper", 256, "pretrained"), ("tiny", 64, "random")):
        raw = load_yaml(spec.config_path(variant))
        assert "default" in raw["sources"], f"{name}/{variant}.yaml cites no source"
        config = load_model_config(name, variant)
        assert (config.image_size, config.perceptual) == (size, perceptual)


@pytest.mark.parametrize("name", KEYPOINT_MODELS)
def test_state_dict_round_trip_reproduces_the_output(name: str) -> None:
    torch.manual_seed(0)
    first = create_model(name, "tiny", perceptual="off").eval()
    torch.manual_seed(1)
    second = create_model(name, "tiny", perceptual="off").eval()
    second.load_state_dict(first.state_dict())
    source, driving = torch.rand(1, 3, 64, 64), torch.rand(1, 2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(first.animate(source, driving), second.animate(source, driving))


@pytest.mark.parametrize("name", ["mraa", "tpsmm"])
def test_the_avd_group_gets_the_avd_stage_optimiser(name: str) -> None:
    model = create_model(name, "tiny", perceptual="off")
    optimizers = model.build_optimizers()
    assert set(optimizers) == {"generator", "avd"}
    main, avd = optimizers["generator"].param_groups[0], optimizers["avd"].param_groups[0]
    assert (main["lr"], main["weight_decay"]) == (
        model.config.optim.lr,
        model.config.optim.weight_decay,
    )
    assert (avd["lr"], avd["betas"], avd["weight_decay"]) == (1e-3, (0.5, 0.999), 0.0)


# --- overfit helper used by the per-model slow tests ------------------------------------------
FRAME_INDICES = (0, 45, 90, 134)
SHIFTS = (0, 4, 8)


def presenter_frames(path: Path, size: int = 72) -> torch.Tensor:
    """Frames FRAME_INDICES of the clip, decoded with PyAV, resized to size x size in [0, 1]."""
    frames = []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in FRAME_INDICES:
                frames.append(torch.from_numpy(frame.to_ndarray(format="rgb24")))
            if i >= max(FRAME_INDICES):
                break
    assert len(frames) == len(FRAME_INDICES), (
        f"{path} has fewer than {max(FRAME_INDICES) + 1} frames"
    )
    x = torch.stack(frames).permute(0, 3, 1, 2).float() / 255
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True).clamp(0, 1)


def crop(frames: torch.Tensor, shift: int) -> torch.Tensor:
    """64x64 window, `shift` px from the left: the presenter appears moved left by `shift`."""
    return frames[..., 4:68, shift : shift + 64]


def overfit_reconstruction(
    name: str, path: Path, steps: int, lr: float = 1e-3, **overrides: object
) -> tuple[float, float, float]:
    """Train the tiny config on shifted crops of real frames; return (L1 before, L1 after,
    L1 of simply copying the source).

    The clip barely moves (L1 between its frames at 64 px is about 0.01, so copying the source
    would already "reconstruct" it); crops shifted by 0/4/8 px add a sideways motion that the
    model has to transfer. Evaluation: reconstruct frames 45/90/134 shifted by 8 px from frame 0
    unshifted. Training: `steps` Adam steps (betas of the references) on random pairs, batch 2,
    generator group only; perceptual loss with random VGG weights at full scale only (budget).
    Runs on one thread: reproducible numerics, and no slowdown on a shared, busy CPU.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _overfit(name, path, steps, lr, **overrides)
    finally:
        torch.set_num_threads(threads)


def _overfit(
    name: str, path: Path, steps: int, lr: float, **overrides: object
) -> tuple[float, float, float]:
    torch.manual_seed(0)
    frames = presenter_frames(path)
    model = create_model(name, "tiny", perceptual="random", perceptual_scales=(1.0,), **overrides)
    source = crop(frames[:1], 0).expand(3, -1, -1, -1)
    target = crop(frames[1:], 8)
    before = _reconstruction_l1(model, source, target)
    params = model.parameter_groups()["generator"]
    optimizer = torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(0)
    step = make_step(model, {"generator": optimizer})
    for _ in range(steps):
        idx = torch.randint(0, len(frames), (2, 2), generator=gen)
        shift = torch.randint(0, len(SHIFTS), (2, 2), generator=gen)
        pair = [
            torch.stack([crop(frames[idx[r, k]], SHIFTS[shift[r, k]]) for k in range(2)])
            for r in range(2)
        ]
        # index 0 every time: TPSMM stays at epoch 0 (no TPS dropout), as measured
        step({"source": pair[0], "driving": pair[1]}, index=0)
    after = _reconstruction_l1(model, source, target)
    return before, after, (source - target).abs().mean().item()


def _reconstruction_l1(model: torch.nn.Module, source: torch.Tensor, target: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        out = model.reconstruct(source, target[:, None])  # type: ignore[operator]
    model.train()
    return (out[:, 0] - target).abs().mean().item()
