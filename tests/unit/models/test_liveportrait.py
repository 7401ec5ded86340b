"""LivePortrait: parameter counts at the released sizes, the keypoint transform, crop /
paste-back, the losses and the two training stages (tiny configs on CPU; the paper sizes only
as shapes). The import of the released weights: tests/unit/weights/test_liveportrait_import.py."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch

from talkingub import create_model
from talkingub.bench.train import make_step
from talkingub.models.registry import load_model_config
from talkingub.zoo.liveportrait import keypoints as kpt
from talkingub.zoo.liveportrait.config import CropConfig
from talkingub.zoo.liveportrait.losses import wing
from talkingub.zoo.liveportrait.pasteback import crop, crop_windows, paste
from talkingub.zoo.liveportrait.teachers import IResNet50, face_id_loss
from tests.unit.models.test_zoo import make_batch

# Our parameter counts at the paper sizes (= the released layout: every released tensor maps
# onto ours, tests/unit/weights/test_liveportrait_import.py).
PAPER_PARAMS = {
    "appearance": 836_224,
    "motion": 28_118_728,
    "warping": 45_529_829,
    "decoder": 55_365_388,
    "stitching": 227_263,
}


def test_paper_parameter_counts() -> None:
    with torch.device("meta"):  # shapes only
        model = create_model("liveportrait", "paper")
    for name, count in PAPER_PARAMS.items():
        assert sum(p.numel() for p in getattr(model, name).parameters()) == count, name
    parts = {
        n: sum(p.numel() for p in getattr(model.stitching, n).parameters())
        for n in ("stitch", "eyes", "lip")
    }
    assert [layer.in_features for layer in model.stitching.stitch.layers] == [126, 128, 128, 64]
    assert model.stitching.stitch.layers[-1].out_features == 65
    assert model.stitching.eyes.layers[0].in_features == 66
    assert model.stitching.lip.layers[0].in_features == 65
    assert sum(parts.values()) == PAPER_PARAMS["stitching"]


# --- keypoints ----------------------------------------------------------------------------


def test_bins_rotation_and_eq7() -> None:
    flat = torch.zeros(2, 66)
    assert torch.allclose(kpt.bins_to_degrees(flat, 97.5), torch.zeros(2))  # 3 * 32.5 - 97.5
    zero = torch.zeros(2)
    assert torch.allclose(kpt.rotation(zero, zero, zero), torch.eye(3).expand(2, 3, 3))
    yaw = torch.full((1,), 90.0)
    rot = kpt.rotation(torch.zeros(1), yaw, torch.zeros(1))
    x = torch.tensor([[[1.0, 0.0, 0.0]]])
    assert torch.allclose(x @ rot, torch.tensor([[[0.0, 0.0, -1.0]]]), atol=1e-6)
    torch.manual_seed(0)
    pose = kpt.Pose(
        rot.expand(2, 3, 3), torch.randn(2, 4, 3), torch.rand(2, 1) + 0.5, torch.randn(2, 3)
    )
    canonical = torch.randn(2, 4, 3)
    same = kpt.relative(pose, pose, pose)  # driving == first frame: the source's own pose
    assert torch.allclose(kpt.apply(canonical, same), kpt.apply(canonical, pose), atol=1e-5)
    moved = kpt.apply(canonical, pose)
    expected = pose.scale[:, :, None] * (canonical @ pose.rotation + pose.expression)
    expected[..., :2] += pose.translation[:, None, :2]  # t_z dropped
    assert torch.allclose(moved, expected, atol=1e-5)


# --- crop and paste-back ------------------------------------------------------------------


def test_crop_then_paste_keeps_the_frame() -> None:
    torch.manual_seed(0)
    frame = torch.nn.functional.interpolate(torch.rand(2, 3, 8, 8), size=(64, 64), mode="bilinear")
    box = torch.tensor([[0.35, 0.3, 0.65, 0.6], [0.4, 0.2, 0.6, 0.45]])
    window = crop_windows(box, (64, 64), CropConfig())
    face = crop(frame, window, 64)
    out = paste(face, frame, window, 0.03125)
    assert (out - frame).abs().mean() < 0.01
    side = 2.3 * 0.3 * 64  # pixels outside the first crop are the frame's, untouched
    top = 0.45 * 64 - 0.125 * side - side / 2
    assert torch.equal(out[0, :, : int(top) - 1], frame[0, :, : int(top) - 1])
    face_box = window.box_in_crop(box)
    assert torch.allclose(
        face_box[0], torch.tensor([-1 / 2.3, -1 / 2.3 + 0.25, 1 / 2.3, 1 / 2.3 + 0.25]), atol=1e-5
    )


# --- losses -------------------------------------------------------------------------------


def test_wing_loss_is_logarithmic_then_linear_and_continuous() -> None:
    w, eps = 10.0, 2.0
    small = wing(torch.tensor([1.0]), torch.tensor([0.0]), w, eps)
    assert math.isclose(float(small), w * math.log(1 + 1 / eps), rel_tol=1e-6)
    at, past = (wing(torch.tensor([x]), torch.tensor([0.0]), w, eps) for x in (w - 1e-4, w + 1e-4))
    assert abs(float(past) - float(at)) < 1e-3
    big = wing(torch.tensor([20.0]), torch.tensor([0.0]), w, eps)
    assert math.isclose(float(big), 20.0 - (w - w * math.log(1 + w / eps)), rel_tol=1e-6)


def test_face_id_loss_reaches_the_prediction() -> None:
    torch.manual_seed(0)
    net = IResNet50().eval().requires_grad_(False)
    pred = torch.rand(1, 3, 64, 64, requires_grad=True)
    box = torch.tensor([[-0.5, -0.5, 0.5, 0.5]])
    loss = face_id_loss(net, pred, pred.detach(), box)
    assert float(loss.detach()) == pytest.approx(0.0, abs=1e-5)  # same face: cosine 1
    other = face_id_loss(net, pred, torch.rand(1, 3, 64, 64), box)
    other.backward()
    assert (
        0.0 < float(other.detach()) <= 2.0 and pred.grad is not None and pred.grad.abs().sum() > 0
    )
    assert {k.split(".")[0] for k in net.state_dict()} >= {"conv1", "layer4", "fc", "features"}


class FakeLandmarks:
    """Stand-in for the FAN teacher: fixed points moved by the crop's mean (differentiable)."""

    def __init__(self) -> None:
        self.base = torch.rand(1, 68, 2, generator=torch.Generator().manual_seed(1)) - 0.5

    def __call__(self, images: torch.Tensor, face_box: torch.Tensor) -> torch.Tensor:
        shift = images.float().mean(dim=(1, 2, 3))[:, None, None]
        return self.base.to(images.device) * (1 + shift)

    def to(self, device: torch.device) -> FakeLandmarks:
        return self


def _step(name: str, **changes: object) -> tuple[dict[str, float], set[str]]:
    torch.manual_seed(0)
    config = dataclasses.replace(load_model_config(name, "tiny"), **changes)
    model = create_model(name, config).train()
    model.teachers.set("landmarks", FakeLandmarks())
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    optimizers = {g: torch.optim.Adam(p, lr=1e-3) for g, p in model.parameter_groups().items() if p}
    losses = make_step(model, optimizers)(make_batch(model.config))
    changed = {
        k.split(".")[0] + "." + k.split(".")[1]
        for k, v in model.named_parameters()
        if not torch.equal(before[k], v)
    }
    return losses, changed


def test_stage1_trains_with_the_landmark_guide_and_leaves_stitching_alone() -> None:
    losses, changed = _step("liveportrait", landmark_guide=True)
    assert "generator/guide" in losses and all(math.isfinite(v) for v in losses.values())
    assert {"appearance.stem", "decoder.head", "discriminators.global"} <= changed
    assert not any(k.startswith("stitching.") for k in changed)


def test_stage2_trains_only_the_mlps_with_retargeting() -> None:
    losses, changed = _step("liveportrait-stitch", landmark_guide=True)
    for term in ("stitching", "eyes", "eyes_cond", "lip", "lip_cond"):
        assert f"generator/{term}" in losses
    assert changed and all(k.startswith("stitching.") for k in changed)
    assert {"stitching.stitch", "stitching.eyes", "stitching.lip"} <= changed


def test_stage2_loads_a_stage1_checkpoint(tmp_path: Path) -> None:
    torch.manual_seed(3)
    stage1 = create_model("liveportrait", "tiny")
    path = tmp_path / "final.pt"
    torch.save({"model": stage1.state_dict(), "version": 2}, path)
    config = load_model_config("liveportrait-stitch", "tiny")
    config = dataclasses.replace(
        config, stage2=dataclasses.replace(config.stage2, stage1_checkpoint=str(path))
    )
    stage2 = create_model("liveportrait-stitch", config)
    want, got = stage1.state_dict(), stage2.state_dict()
    assert all(
        torch.equal(want[k], got[k]) for k in want if k.startswith(("appearance.", "decoder."))
    )
    assert not any(p.requires_grad for p in stage2.warping.parameters())
    stage2.train()
    assert not stage2.motion.training and stage2.stitching.training
