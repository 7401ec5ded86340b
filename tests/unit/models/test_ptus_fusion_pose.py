"""PTUS gaps of issue 16: face/body feature fusion, the body-pose loss L_B, the two readings
of Table 4's "w/o FBLG" (ptus-no-fbmd, ptus-no-fbmd-lgmd)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch
from torch import nn

import talkingub.zoo.osfv.objective as osfv_objective
import talkingub.zoo.ptus.model as ptus_model
from talkingub import create_model
from talkingub.errors import WeightsMissingError
from talkingub.models.registry import load_model_config, model_spec
from talkingub.zoo.osfv.head_pose import HeadPose
from talkingub.zoo.ptus.fusion import FaceBodyFusion, face_region_mask, target_box
from talkingub.zoo.ptus.losses import body_pose_loss
from talkingub.zoo.ptus.warping import Warped
from tests.unit.models.test_zoo import make_batch

BOX = torch.tensor([[0.25, 0.125, 0.75, 0.625], [0.0, 0.5, 0.5, 1.0]])


def paper_model(name: str) -> Any:
    with torch.device("meta"):
        return model_spec(name).cls(load_model_config(name, "paper"))


def params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --- fusion --------------------------------------------------------------------------------
def test_face_mask_is_zero_outside_the_box_and_one_deep_inside() -> None:
    like = torch.empty(2, 1, 1, 33, 33)
    mask = face_region_mask(BOX, 33, 33, 0.1, like)
    assert mask.shape == (2, 1, 1, 33, 33) and mask.dtype == like.dtype
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    pos = torch.linspace(0.0, 1.0, 33)  # grid positions in box units (align_corners grid)
    for b in range(2):
        x0, y0, x1, y1 = BOX[b].tolist()
        m = mask[b, 0, 0]
        out_y = (pos <= y0) | (pos >= y1)
        out_x = (pos <= x0) | (pos >= x1)
        assert (m[out_y] == 0).all() and (m[:, out_x] == 0).all()
        deep_y = (pos >= y0 + 0.1 * (y1 - y0)) & (pos <= y1 - 0.1 * (y1 - y0))
        deep_x = (pos >= x0 + 0.1 * (x1 - x0)) & (pos <= x1 - 0.1 * (x1 - x0))
        assert (m[deep_y][:, deep_x] == 1).all()
        ramp = m[~out_y][:, ~out_x]
        assert ((ramp > 0) & (ramp < 1)).any()  # the feathered edge


def test_hard_mask_without_feather() -> None:
    mask = face_region_mask(BOX[:1], 17, 17, 0.0, torch.empty(0))
    assert set(mask.unique().tolist()) == {0.0, 1.0}


def test_fusion_keeps_body_features_outside_and_takes_face_features_inside() -> None:
    torch.manual_seed(0)
    body, face = torch.randn(2, 4, 3, 16, 16), torch.randn(2, 4, 3, 16, 16)
    fusion = FaceBodyFusion(0.1)
    fused = fusion(body, face, BOX)
    mask = fusion.mask(BOX, face).expand_as(face)
    assert torch.equal(fused[mask == 0], body[mask == 0])  # outside: untouched body features
    assert torch.equal(fused[mask == 1], face[mask == 1])  # inside: the refined face features
    edge = (mask > 0) & (mask < 1)
    blend = mask[edge] * face[edge] + (1 - mask[edge]) * body[edge]
    assert edge.any() and torch.allclose(fused[edge], blend)
    assert (mask == 0).any() and (mask == 1).any()


def test_face_box_in_the_output_frame_follows_the_motion_mode() -> None:
    src, drv = BOX[:1], torch.tensor([[0.3, 0.2, 0.7, 0.6]])
    first = torch.tensor([[0.25, 0.1, 0.65, 0.5]])
    assert torch.equal(target_box(src, drv, src), drv)  # absolute / training: driving box
    assert torch.allclose(target_box(src, drv, first), src + (drv - first))  # relative
    moved = target_box(src, torch.tensor([[0.9, 0.9, 1.3, 1.3]]), src.clone())
    assert moved.min() >= 0 and moved.max() <= 1  # clipped to the frame


def _capture(model: Any) -> dict[str, Any]:
    """What the warping returns and what the generator decodes, in the next forward."""
    seen: dict[str, Any] = {}
    model.warping.register_forward_hook(lambda _m, _a, out: seen.__setitem__("warped", out))
    model.generator.register_forward_pre_hook(lambda _m, args: seen.__setitem__("decoded", args[0]))
    return seen


def test_ptus_decodes_the_fused_features_with_the_driving_face_box() -> None:
    torch.manual_seed(0)
    model = create_model("ptus", "tiny").train()
    assert model.config.fuses_face and isinstance(model.fusion, FaceBodyFusion)
    batch = make_batch(model.config)
    batch["driving_face_box"] = torch.tensor([[0.2, 0.15, 0.6, 0.55], [0.35, 0.05, 0.8, 0.5]])
    seen = _capture(model)
    model.generator_losses(batch)
    warped: Warped = seen["warped"]
    assert warped.refined is not None
    mask = model.fusion.mask(batch["driving_face_box"], warped.refined).expand_as(warped.refined)
    decoded = seen["decoded"]
    assert torch.equal(decoded[mask == 0], warped.initial[mask == 0])  # body features: f_init
    assert torch.equal(decoded[mask == 1], warped.refined[mask == 1])  # face features: f_re
    assert not torch.allclose(warped.initial, warped.refined)  # the refinement did something


def test_fusion_switch_off_decodes_the_refined_volume_whole() -> None:
    torch.manual_seed(0)
    model = create_model("ptus", "tiny", face_fusion=False).eval()
    assert model.fusion is None
    seen = _capture(model)
    batch = make_batch(model.config)
    with torch.no_grad():
        model.generator_losses(batch)
    assert torch.equal(seen["decoded"], seen["warped"].refined)


@pytest.mark.parametrize("name", ["ptus-no-fbmd", "ptus-no-fbmd-lgmd", "ptus-no-lgmd"])
def test_ablations_have_no_fusion_even_when_asked(name: str) -> None:
    # Fusion needs refined facial features: the face set (FBMD) and the refinement (LGMD).
    model = create_model(name, "tiny", face_fusion=True)
    assert model.fusion is None and not model.config.fuses_face


def test_paper_config_fuses_and_tiny_keeps_it() -> None:
    for variant in ("paper", "tiny"):
        assert load_model_config("ptus", variant).fuses_face


# --- L_B -----------------------------------------------------------------------------------
class StubTeacher(nn.Module):
    """Offline stand-in for the Hopenet weights: fixed random bin logits from the image."""

    proj: torch.Tensor

    def __init__(self, seen: list[tuple[int, ...]]) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(1)
        self.register_buffer("proj", torch.randn(3, 3, 66, generator=gen) * 5)
        self.seen = seen

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        self.seen.append(tuple(image.shape))
        pooled = image.mean(dim=(2, 3))  # [B, 3]
        return tuple(pooled @ self.proj[i] for i in range(3))


@pytest.fixture
def teacher(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    seen: list[tuple[int, ...]] = []
    monkeypatch.setattr(osfv_objective, "load_hopenet", lambda: StubTeacher(seen))
    return seen


def _pose(batch: int = 2, kp: int = 4) -> HeadPose:
    yaw, pitch, roll = (torch.randn(batch, 66, requires_grad=True) for _ in range(3))
    return HeadPose(yaw, pitch, roll, torch.zeros(batch, 3), torch.zeros(batch, kp, 3))


def test_body_pose_loss_is_zero_at_its_target_and_positive_elsewhere() -> None:
    torch.manual_seed(0)
    pose = _pose()
    same = tuple(t.detach().clone() for t in (pose.yaw, pose.pitch, pose.roll))
    assert body_pose_loss(pose, same, 20.0).item() == 0.0
    other = tuple(torch.randn(2, 66) * 3 for _ in range(3))
    loss = body_pose_loss(pose, other, 20.0)
    assert loss.item() > 0
    loss.backward()
    assert all(t.grad is not None and t.grad.abs().sum() > 0 for t in (pose.yaw, pose.roll))


def test_l_b_supervises_the_body_estimator_on_the_full_frame(
    teacher: list[tuple[int, ...]],
) -> None:
    torch.manual_seed(0)
    model = create_model("ptus", "tiny", head_pose_loss=True).train()
    cfg = model.config
    losses = model.generator_losses(make_batch(cfg))
    assert {"head_pose", "body_pose"} <= set(losses)  # L_cam and L_B
    assert losses["body_pose"].item() > 0
    # L_cam's teacher sees the face crop, L_B's the whole upper-body frame.
    assert (2, 3, cfg.face_size, cfg.face_size) in teacher
    assert (2, 3, cfg.image_size, cfg.image_size) in teacher
    model.zero_grad(set_to_none=True)
    losses["body_pose"].backward()
    grads = {n for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum()}
    assert any(n.startswith("body.estimator.yaw") for n in grads)
    assert any(n.startswith("body.estimator.trunk") for n in grads)
    assert all(n.startswith("body.estimator.") for n in grads), grads


def test_l_b_is_zero_when_the_teacher_agrees_with_the_body_estimator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    torch.manual_seed(0)
    model = create_model("ptus", "tiny", head_pose_loss=True).eval()
    batch = make_batch(model.config)

    class Echo(nn.Module):  # the body estimator's own prediction as the target
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("dummy", torch.zeros(1))

        def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
            pose = model.body.estimator(image)
            return pose.yaw, pose.pitch, pose.roll

    monkeypatch.setattr(osfv_objective, "load_hopenet", Echo)
    with torch.no_grad():
        losses = model.generator_losses(batch)
    assert losses["body_pose"].item() == pytest.approx(0.0, abs=1e-5)


def test_l_b_weight_and_gate(teacher: list[tuple[int, ...]]) -> None:
    torch.manual_seed(0)
    batch = make_batch(load_model_config("ptus", "tiny"))
    assert "body_pose" not in create_model("ptus", "tiny").generator_losses(
        batch
    )  # tiny: gated off
    cfg = load_model_config("ptus", "tiny", head_pose_loss=True)
    no_lb = create_model("ptus", cfg, loss=dataclasses.replace(cfg.loss, body_pose=0.0))
    losses = no_lb.generator_losses(batch)
    assert "body_pose" not in losses and "head_pose" in losses


def test_paper_l_b_weight_equals_l_cam() -> None:
    for name in ("ptus", "ptus-no-fbmd", "ptus-no-fbmd-lgmd", "ptus-no-lgmd"):
        cfg = load_model_config(name, "paper")
        assert cfg.head_pose_loss and cfg.loss.body_pose == cfg.loss.head_pose == 20.0


@pytest.mark.parametrize("name", ["ptus-no-fbmd", "ptus-no-fbmd-lgmd"])
def test_single_estimator_ablations_train_with_l_b_only(
    name: str, teacher: list[tuple[int, ...]]
) -> None:
    torch.manual_seed(0)
    model = create_model(name, "tiny", head_pose_loss=True).train()
    losses = model.generator_losses(make_batch(model.config))
    assert "body_pose" in losses and "head_pose" not in losses
    size = model.config.image_size
    assert teacher == [(2, 3, size, size)]


def test_l_b_needs_the_teacher_weights_even_without_l_cam() -> None:
    # tests/conftest.py points the weights cache at an empty folder
    cfg = load_model_config("ptus-no-fbmd-lgmd", "tiny", head_pose_loss=True)
    model = create_model("ptus-no-fbmd-lgmd", cfg, loss=dataclasses.replace(cfg.loss, head_pose=0))
    with pytest.raises(WeightsMissingError, match=r"talkingub weights fetch hopenet"):
        model.objective.prepare()


# --- the two readings of "w/o FBLG" --------------------------------------------------------
def test_the_two_fblg_readings_differ_only_in_lgmd() -> None:
    keep, drop = paper_model("ptus-no-fbmd"), paper_model("ptus-no-fbmd-lgmd")
    for model in (keep, drop):
        assert model.face is None and model.fusion is None  # one keypoint set, nothing to fuse
        estimators = [m for m in model.modules() if isinstance(m, type(model.body.estimator))]
        assert estimators == [model.body.estimator]  # one pose estimator for the upper body
        assert model.warping.coarse.num_kp == model.config.num_kp
    assert keep.warping.refine is not None and keep.warping.refine.num_kp == keep.config.num_kp
    assert drop.warping.refine is None
    names_keep = {n for n, _ in keep.named_parameters()}
    names_drop = {n for n, _ in drop.named_parameters()}
    assert names_drop < names_keep
    assert {n.split(".")[1] for n in names_keep - names_drop} == {"refine"}
    assert params(drop) == params(paper_model("osfv"))


def test_no_fbmd_decomposes_the_single_set_and_no_fbmd_lgmd_never_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    real = ptus_model.local_motion

    def counted(*args: torch.Tensor) -> torch.Tensor:
        calls.append(args[1].shape[1])
        return real(*args)

    monkeypatch.setattr(ptus_model, "local_motion", counted)
    for name, expected in (("ptus-no-fbmd", 1), ("ptus-no-fbmd-lgmd", 0)):
        calls.clear()
        torch.manual_seed(0)
        model = create_model(name, "tiny").eval()
        batch = make_batch(model.config)
        with torch.no_grad():
            out = model.reconstruct(batch["source"], batch["driving"].unsqueeze(1))
        assert out.shape == (2, 1, 3, 64, 64)  # no face crops needed without the split
        assert calls == [model.config.num_kp] * expected, name


@pytest.mark.parametrize("name", ["ptus-no-fbmd", "ptus-no-fbmd-lgmd"])
def test_fblg_ablations_state_the_paper_sentence_they_follow(name: str) -> None:
    doc = model_spec(name).cls.__doc__ or ""
    assert "w/o FBLG" in doc
    key = "one pose estimator" if name == "ptus-no-fbmd" else "FBMD and LFMD are removed"
    assert key in " ".join(doc.split())
