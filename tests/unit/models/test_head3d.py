"""Head3D (issue 19): the camera of eq. 1-3 and 5 (10 degree field of view, 1 m), the head
region stand-in, the three separately trained stages with their schedule and learning rates,
and the few-shot inputs (N subject frames, or the source's own head crop as the one frame).
The registry-wide contract tests (tests/unit/models/test_zoo.py, bench/test_precision.py,
bench/test_checkpoint.py) cover forward/backward, AMP, channels-last and resume."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from talkingub import create_model
from talkingub.bench.pretrained import dropped_terms, model_config, pretrained_terms
from talkingub.bench.protocol import load_protocol
from talkingub.bench.step import run_step, to_device
from talkingub.bench.train import make_step
from talkingub.errors import ConfigError
from talkingub.models.base import FEW_SHOT
from talkingub.models.registry import load_model_config
from talkingub.zoo.head3d import schedule as S
from talkingub.zoo.head3d.camera import Camera, Pose
from talkingub.zoo.head3d.config import CameraConfig, HeadMaskConfig
from talkingub.zoo.head3d.parsing import head_mask, paste
from talkingub.zoo.osfv.head_pose import rotation_matrix
from tests.unit.models.test_zoo import make_batch


def _pose(yaw: float = 0.0, tx: float = 0.0, b: int = 1) -> Pose:
    angle = torch.full((b,), yaw)
    rotation = rotation_matrix(angle, torch.zeros(b), torch.zeros(b))
    return Pose(rotation, torch.tensor([[tx, 0.0, 0.0]]).repeat(b, 1))


def test_the_camera_is_the_papers() -> None:
    camera = Camera(CameraConfig(), 128)
    assert camera.focal == pytest.approx(127 / (2 * math.tan(math.radians(5))))  # eq. 2
    assert camera.centre == 63.5 and camera.config.distance == 1.0
    depth = torch.full((2, 128, 128), 1.0) + 0.05 * torch.rand(2, 128, 128)
    points = camera.unproject(depth)
    assert torch.allclose(points[..., 2], depth)
    pose = Pose(_pose(20.0, 0.05, 2).rotation, torch.tensor([[0.05, -0.02, 0.03]] * 2))
    back = camera.to_canonical(camera.to_view(points, pose), pose)  # eq. 3 then eq. 1
    assert torch.allclose(back, points, atol=1e-5)
    grid, valid = camera.canonical_grid(depth, _pose(b=2))  # eq. 5, identity pose
    axis = torch.linspace(-1, 1, 128)
    assert torch.allclose(grid[0, 5, :, 0], axis, atol=1e-4) and bool(valid.all())


def test_rendering_moves_the_head_and_identity_keeps_it() -> None:
    camera = Camera(CameraConfig(), 32)
    image = torch.rand(1, 3, 32, 32)
    depth = torch.ones(1, 32, 32)
    same, mask = camera.render_from_canonical(image, depth, _pose())
    inner = (slice(None), slice(None), slice(2, -2), slice(2, -2))
    assert torch.allclose(same[inner], image[inner], atol=1e-4) and mask[inner].min() > 0.99
    back, _ = camera.render_to_canonical(image, depth, _pose())
    assert torch.allclose(back[inner], image[inner], atol=1e-4)
    bar = torch.zeros(1, 3, 32, 32)
    bar[..., 14:18] = 1.0  # a vertical bar at the centre
    moved, _ = camera.render_from_canonical(bar, depth, _pose(tx=0.01))
    row = moved[0, 0, 16]
    centre = float((row * torch.arange(32.0)).sum() / row.sum())
    assert centre - 15.5 == pytest.approx(0.01 * camera.focal, abs=0.2)  # f t_x / z pixels right


def test_the_head_region_stand_in_and_the_paste() -> None:
    mask = head_mask(HeadMaskConfig(), 64)
    assert mask.shape == (1, 1, 64, 64)
    assert mask[0, 0, 29, 32] == 1.0 and mask[0, 0, 0, 0] == 0.0 and mask[0, 0, 63, 32] == 0.0
    assert bool((head_mask(HeadMaskConfig(enabled=False), 8) == 1).all())
    crop = torch.rand(1, 3, 16, 16)
    whole = paste(crop, torch.tensor([[0.0, 0.0, 1.0, 1.0]]), 16)
    assert torch.allclose(whole, crop, atol=1e-5)
    quarter = paste(crop, torch.tensor([[0.5, 0.5, 1.0, 1.0]]), 16)
    assert quarter[..., :8, :].abs().max() == 0 and quarter[..., 8:, 8:].abs().max() > 0


def test_the_stage_schedule_and_its_learning_rates() -> None:
    paper = load_model_config("head3d", "paper")
    assert paper.num_ref_frames == 5 and paper.optim.epochs == 80
    assert (paper.camera.fov_deg, paper.camera.distance) == (10.0, 1.0)
    assert [S.stage_at(paper, e)[0] for e in (0, 9, 10, 29, 30, 79, 80)] == [1, 1, 2, 2, 3, 3, 3]
    assert S.stage_at(paper, 15) == (2, 5)
    tiny = create_model("head3d", "tiny")
    optimizers = tiny.build_optimizers()
    assert list(optimizers) == ["stage1", "stage2", "stage3"]
    model = create_model("head3d", "paper", pose_init="random")
    opts = model.build_optimizers()
    lrs = lambda name: [g["lr"] for g in opts[name].param_groups]  # noqa: E731
    assert lrs("stage1") == [2e-4, 2e-5]  # F_D, F_P
    model.set_epoch(5)
    assert lrs("stage1") == pytest.approx([2e-5, 2e-6])  # x0.1 at epoch 5
    model.set_epoch(19)
    assert lrs("stage2") == pytest.approx([2e-4])
    model.set_epoch(20)  # stage 2's epoch 10
    assert lrs("stage2") == pytest.approx([2e-5])
    model.set_epoch(79)
    assert lrs("stage3") == pytest.approx([2e-4])  # fixed
    only3 = load_model_config("head3d", "tiny", stages=(3,), optim=dataclasses.replace(
        load_model_config("head3d", "tiny").optim, epochs=2
    ))  # fmt: skip
    assert S.stage_at(only3, 0) == (3, 0)
    with pytest.raises(ConfigError, match=r"optim\.epochs"):
        load_model_config("head3d", "tiny", stages=(3,))


def test_each_stage_trains_its_own_part_only() -> None:
    torch.manual_seed(0)
    model = create_model("head3d", "tiny").train()
    batch = make_batch(model.config)
    groups = model.parameter_groups()
    step = make_step(model)
    for stage, epoch in ((1, 0), (2, 1), (3, 2)):
        before = {k: [p.detach().clone() for p in ps] for k, ps in groups.items()}
        model.set_epoch(epoch)
        assert model.active_stage() == stage
        for other in {1, 2, 3} - {stage}:
            assert model.losses(f"stage{other}", batch) == {}
        parts = step.parts
        parts.schedule = dataclasses.replace(parts.schedule, steps=4)  # epoch = step here
        logs = run_step(parts, to_device(batch, parts), epoch)
        assert {k.split("/")[0] for k in logs} == {f"stage{stage}"}
        assert math.isfinite(logs[f"stage{stage}/total"])
        for name, params in groups.items():
            moved = any(not torch.equal(a, p) for a, p in zip(before[name], params))
            assert moved == (name == f"stage{stage}"), (stage, name)


def test_subject_frames_are_used_and_n_is_free() -> None:
    torch.manual_seed(0)
    model = create_model("head3d", "tiny").eval()
    assert model.track == FEW_SHOT and model.animate_modes == ("absolute",)
    batch = make_batch(model.config)
    frames = 2
    driving = torch.stack([batch["driving"]] * frames, dim=1)
    extra = {
        "source_face": batch["source_face"],
        "driving_face": torch.stack([batch["driving_face"]] * frames, dim=1),
        "driving_face_box": torch.stack([batch["driving_face_box"]] * frames, dim=1),
    }
    subject = {k: batch[k] for k in ("source_frames", "source_frames_face")}
    five = {"source_frames_face": torch.cat([batch["source_frames_face"]] * 3, 1)[:, :5]}
    with torch.no_grad():
        one = model.animate(batch["source"], driving, **extra)  # the source's own head: N = 1
        two = model.animate(batch["source"], driving, **extra, **subject)
        many = model.reconstruct(batch["source"], driving, **extra, **five)
    assert one.shape == two.shape == many.shape == driving.shape
    assert not torch.allclose(one, two)
    with pytest.raises(ConfigError, match="driving_face"):
        model.animate(batch["source"], driving, source_face=batch["source_face"])
    with pytest.raises(ConfigError, match="not supported"):
        model.animate(batch["source"], driving, mode="relative", **extra)


def test_hopenet_starts_the_pose_network_and_the_opt_out_drops_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from talkingub.zoo.osfv import hopenet

    teacher = hopenet.Hopenet()
    monkeypatch.setattr(hopenet, "load_hopenet", lambda: teacher)
    model = create_model("head3d", "paper")
    assert [t.key for t in pretrained_terms(model.config)] == ["perceptual", "pose_init"]
    model._init_pose()
    assert torch.equal(model.pose_net.layer3[2].conv2.weight, teacher.layer3[2].conv2.weight)
    assert torch.equal(model.pose_net.fc_yaw.weight, teacher.fc_yaw.weight)
    assert int(model.pose_initialised) == 1  # saved: a resumed run does not start it again
    protocol = load_protocol("paper-gpu", methods=("head3d",), without_pretrained_losses=True)
    assert model_config("head3d", protocol).pose_init == "random"
    assert dropped_terms("head3d", protocol) == ["perceptual", "pose_init"]
