"""PTUS: eq. 7 on hand-made rotations, independent face/body sets, the ablations, overfit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

import talkingub.zoo.ptus.model as ptus_model
from talkingub import create_model
from talkingub.errors import ConfigError
from talkingub.models.registry import load_model_config, model_spec
from talkingub.zoo.osfv.head_pose import rotation_matrix
from talkingub.zoo.ptus.decomposition import SetMotion, face_to_image, local_motion, plan_warp
from tests.unit.models.test_osfv import OVERFIT_FACTOR, OVERFIT_STEPS, overfit
from tests.unit.models.test_zoo import make_batch

VARIANTS = ("ptus", "ptus-no-fbmd", "ptus-no-fbmd-lgmd", "ptus-no-lgmd")


def rot(yaw: float, pitch: float, roll: float) -> torch.Tensor:
    return rotation_matrix(torch.tensor([yaw]), torch.tensor([pitch]), torch.tensor([roll]))


def params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --- eq. 7 ------------------------------------------------------------------------------
def test_equal_pose_and_expression_give_zero_local_motion() -> None:
    r = rot(25.0, -10.0, 5.0)
    e = torch.randn(1, 15, 3) * 0.05
    assert torch.allclose(
        local_motion(r, e, r.clone(), e.clone()), torch.zeros(1, 15, 3), atol=1e-6
    )


def test_pure_head_rotation_gives_zero_local_motion() -> None:
    # The same expression in the head's own frame, seen in two head poses: e = R eps.
    eps = torch.randn(1, 15, 3) * 0.05
    r_src, r_drv = rot(-30.0, 10.0, 0.0), rot(40.0, -15.0, 20.0)
    e_src, e_drv = eps @ r_src.transpose(1, 2), eps @ r_drv.transpose(1, 2)
    assert not torch.allclose(e_src, e_drv, atol=1e-3)  # the raw expressions differ ...
    assert torch.allclose(
        local_motion(r_src, e_src, r_drv, e_drv), torch.zeros(1, 15, 3), atol=1e-6
    )


def test_expression_change_in_a_fixed_pose_is_all_local() -> None:
    r = rot(15.0, 0.0, -5.0)
    e_src, e_drv = torch.randn(1, 15, 3) * 0.05, torch.randn(1, 15, 3) * 0.05
    assert torch.allclose(local_motion(r, e_src, r, e_drv), e_drv - e_src, atol=1e-6)


def test_global_plus_local_is_the_whole_motion_eq6() -> None:
    src, motion, local = torch.randn(1, 4, 3), torch.randn(1, 4, 3), torch.randn(1, 4, 3)
    plan = plan_warp(
        [SetMotion(torch.randn(1, 3, 3), torch.randn(1, 3, 3)), SetMotion(src, motion, local)]
    )
    assert plan.coarse_src.shape[1] == 7  # both sets drive the coarse network
    assert plan.refine_src is not None and plan.refine_drv is not None
    assert torch.allclose(plan.refine_drv - plan.coarse_src[:, 3:], motion)  # m_g + m_l = m
    assert torch.allclose(plan.refine_drv - plan.refine_src, local)  # the refinement is m_l


def test_face_keypoints_are_placed_through_the_face_box() -> None:
    box = torch.tensor([[0.25, 0.0, 0.75, 0.5]])  # centre (0.5, 0.25) -> (0, -0.5) in [-1, 1]
    kp = torch.tensor([[[0.0, 0.0, 0.2], [1.0, 1.0, 0.0], [-1.0, -1.0, 0.0]]])
    out = face_to_image(kp, box)
    assert torch.allclose(out[0, 0], torch.tensor([0.0, -0.5, 0.1]))
    assert torch.allclose(out[0, 1, :2], torch.tensor([0.5, 0.0]))
    assert torch.allclose(out[0, 2, :2], torch.tensor([-0.5, -1.0]))


# --- face-body decomposition --------------------------------------------------------------
def test_face_and_body_keypoint_sets_are_independent() -> None:
    torch.manual_seed(0)
    model = create_model("ptus", "tiny").train()
    face_ids = {id(p) for p in model.face.parameters()}
    body_ids = {id(p) for p in model.body.parameters()}
    assert face_ids and body_ids and not face_ids & body_ids
    batch = make_batch(model.config)
    frame = ptus_model.Frame(batch["source"], batch["source_face"], batch["source_face_box"])
    body_kp, face_kp = model.canonical(frame)
    face_kp.sum().backward()
    assert all(p.grad is None for p in model.body.parameters())
    assert any(
        p.grad is not None and p.grad.abs().sum() > 0 for p in model.face.detector.parameters()
    )
    model.zero_grad(set_to_none=True)
    body_kp.sum().backward()
    assert all(p.grad is None for p in model.face.parameters())


def test_face_branch_sees_the_face_crop_and_body_branch_the_full_image() -> None:
    torch.manual_seed(0)
    model = create_model("ptus", "tiny").eval()
    batch = make_batch(model.config)
    frame = ptus_model.Frame(batch["source"], batch["source_face"], batch["source_face_box"])
    changed = ptus_model.Frame(batch["source"], torch.rand_like(batch["source_face"]), frame.box)
    with torch.no_grad():
        (b1, f1), (b2, f2) = model.canonical(frame), model.canonical(changed)
    assert torch.equal(b1, b2) and not torch.allclose(f1, f2)


# --- ablations ---------------------------------------------------------------------------
def paper_model(name: str) -> Any:
    with torch.device("meta"):
        return model_spec(name).cls(load_model_config(name, "paper"))


def test_no_fbmd_has_a_single_pose_estimator_for_the_upper_body() -> None:
    full, ablated = paper_model("ptus"), paper_model("ptus-no-fbmd")
    assert ablated.face is None
    assert not any(n.startswith("face.") for n, _ in ablated.named_parameters())
    assert sum(isinstance(m, type(full.body.estimator)) for m in ablated.modules()) == 1
    assert sum(isinstance(m, type(full.body.estimator)) for m in full.modules()) == 2
    assert ablated.warping.coarse.num_kp == ablated.config.num_kp
    assert ablated.warping.refine is not None  # LGMD stays, on the single set


def test_no_lgmd_has_no_refining_network_and_never_computes_local_motion(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert paper_model("ptus-no-lgmd").warping.refine is None
    torch.manual_seed(0)
    model = create_model("ptus-no-lgmd", "tiny").eval()

    def forbidden(*_: object) -> torch.Tensor:
        raise AssertionError("local motion computed in ptus-no-lgmd")

    monkeypatch.setattr(ptus_model, "local_motion", forbidden)
    batch = make_batch(model.config)
    with torch.no_grad():
        model.reconstruct(batch["source"], batch["driving"].unsqueeze(1), **_extra(batch))


def test_full_ptus_runs_the_refining_network_on_the_local_face_motion() -> None:
    torch.manual_seed(0)
    model = create_model("ptus", "tiny").eval()
    seen: list[int] = []
    model.warping.refine.register_forward_hook(lambda _m, args, _o: seen.append(args[1].shape[1]))
    batch = make_batch(model.config)
    with torch.no_grad():
        model.reconstruct(batch["source"], batch["driving"].unsqueeze(1), **_extra(batch))
    assert seen == [model.config.num_face_kp]


def test_paper_parameter_accounting_of_the_variants() -> None:
    osfv, full = paper_model("osfv"), paper_model("ptus")
    no_fbmd, no_lgmd = paper_model("ptus-no-fbmd"), paper_model("ptus-no-lgmd")
    no_both = paper_model("ptus-no-fbmd-lgmd")
    branch = params(osfv.motion)  # keypoint detector + pose/expression estimator
    assert params(full.face) == params(full.body) == branch
    assert params(full) - params(no_fbmd) == branch + params(full.warping) - params(no_fbmd.warping)
    assert params(full) - params(no_lgmd) == params(full.warping.refine)
    assert params(no_fbmd) - params(no_both) == params(no_fbmd.warping.refine)
    assert params(no_both) == params(osfv)  # OSFV's modules on the upper body
    assert params(full.fusion) == 0  # the fusion adds no parameters
    assert params(full.appearance) + params(full.generator) == params(osfv.appearance) + params(
        osfv.generator
    )


@pytest.mark.parametrize("name", VARIANTS)
def test_registered_name_enforces_its_switches(name: str) -> None:
    cfg = load_model_config(name, "tiny")
    flipped = {"face_body_split": not cfg.face_body_split}
    with pytest.raises(ConfigError, match="face_body_split"):
        create_model(name, cfg, **flipped)


def test_missing_face_crops_are_refused() -> None:
    model = create_model("ptus", "tiny").eval()
    with pytest.raises(ConfigError, match="face crops"):
        model.animate(torch.rand(1, 3, 64, 64), torch.rand(1, 2, 3, 64, 64))


def _extra(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {
        "source_face": batch["source_face"],
        "driving_face": batch["driving_face"].unsqueeze(1),
        "source_face_box": batch["source_face_box"],
        "driving_face_box": batch["driving_face_box"].unsqueeze(1),
    }


# --- overfit on real frames -----------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", VARIANTS)
def test_tiny_variant_overfits_presenter_frames(name: str, presenter_chest_up_mp4: Path) -> None:
    first, last = overfit(name, presenter_chest_up_mp4, OVERFIT_STEPS)
    assert last < first / OVERFIT_FACTOR, (first, last)
