"""One contract test over every registered model (tiny configs, CPU)."""

from __future__ import annotations

import math

import pytest
import torch

from talkingub import create_model, list_models
from talkingub.bench.train import make_step
from talkingub.zoo.liu_ubkp.keypoints import template_pose

MODELS = list_models()
FRAMES = 3


def make_batch(config: object, batch: int = 2) -> dict[str, torch.Tensor]:
    """A 2-sample batch of smooth random images plus face crops and face boxes."""
    size = int(config.image_size)  # type: ignore[attr-defined]
    face = int(getattr(config, "face_size", size // 2))
    gen = torch.Generator().manual_seed(0)

    def images(*shape: int) -> torch.Tensor:
        low = torch.rand(*shape[:-2], shape[-2] // 8, shape[-1] // 8, generator=gen)
        return torch.nn.functional.interpolate(low, size=shape[-2:], mode="bilinear")

    box = torch.tensor([[0.3, 0.1, 0.7, 0.5]]).repeat(batch, 1)
    out = {
        "source": images(batch, 3, size, size),
        "driving": images(batch, 3, size, size),
        "source_face": images(batch, 3, face, face),
        "driving_face": images(batch, 3, face, face),
        "source_face_box": box,
        "driving_face_box": box.clone(),
        # BlazePose as the build records it, in 0-1 of the frame (person-specific: liu-ubkp)
        "source_pose": template_pose().repeat(batch, 1, 1),
        "driving_pose": _moved(template_pose().repeat(batch, 1, 1), gen),
    }
    n = int(getattr(config, "num_ref_frames", 0))
    if n:  # few-shot models (Head3D): N subject frames of the source person, as the bench
        out["source_frames"] = images(batch * n, 3, size, size).unflatten(0, (batch, n))
        out["source_frames_face"] = images(batch * n, 3, face, face).unflatten(0, (batch, n))
        out["source_frames_face_box"] = box[:, None].repeat(1, n, 1)
    return out


def _moved(pose: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """`pose` with its points shifted a little (x, y), visibility unchanged."""
    shift = 0.02 * (torch.rand(*pose.shape[:-1], 2, generator=gen) - 0.5)
    return torch.cat([pose[..., :2] + shift, pose[..., 2:]], dim=-1)


def reconstruct_inputs(
    batch: dict[str, torch.Tensor], frames: int
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """(source [1, ...], driving video [1, T, ...], face extras) for `reconstruct`: the first
    sample as the source, its driving frame repeated `frames` times."""

    def video(key: str) -> torch.Tensor:
        return torch.stack([batch[key][:1]] * frames, dim=1)

    extra = {k: batch[k][:1] for k in ("source_face", "source_face_box", "source_pose")}
    extra |= {k: video(k) for k in ("driving_face", "driving_face_box", "driving_pose")}
    extra |= {k: v[:1] for k, v in batch.items() if k.startswith("source_frames")}
    return batch["source"][:1], video("driving"), extra


def test_registry_lists_every_model() -> None:
    expected = ["fomm", "mraa", "tpsmm", "lia", "osfv", "ptus", "ptus-no-fbmd", "ptus-no-lgmd"]
    expected.append("ptus-no-fbmd-lgmd")  # PTUS Table 4 "w/o FBLG", second reading
    expected += ["liveportrait", "liveportrait-stitch"]  # stage I, stage II
    expected.append("head3d")  # the few-shot track
    expected.append("liu-ubkp")  # the person-specific track
    assert sorted(expected) == MODELS


def _tiny_step(name: str, lr: float) -> tuple[dict[str, float], list[str], list[str]]:
    """One step of the tiny model through the bench's optimisation step (`make_step`):
    (losses, changed parameters, changed buffers)."""
    torch.manual_seed(0)
    model = create_model(name, "tiny")
    model.train()
    optimizers = {
        group: torch.optim.Adam(params, lr=lr) for group, params in model.parameter_groups().items()
    }
    params = {k: v.detach().clone() for k, v in model.named_parameters()}
    buffers = {k: v.detach().clone() for k, v in model.named_buffers() if v.is_floating_point()}
    losses = make_step(model, optimizers)(make_batch(model.config))
    changed = [k for k, v in model.named_parameters() if not torch.equal(params[k], v)]
    moved = [k for k, v in model.named_buffers() if k in buffers and not torch.equal(buffers[k], v)]
    return losses, changed, moved


@pytest.mark.parametrize("name", MODELS)
def test_tiny_train_step_updates_weights(name: str) -> None:
    losses, changed, _ = _tiny_step(name, lr=1e-3)
    assert losses, "the training step returned no losses"
    assert all(math.isfinite(v) for v in losses.values()), losses
    assert changed, "no parameter changed after one optimizer step"


def test_weight_check_ignores_batchnorm_statistics_of_a_no_op_step() -> None:
    """With lr 0 the optimiser changes nothing, yet FOMM's BatchNorm running statistics move
    in the forward pass: the check above looks at parameters only, so it would fail."""
    _, changed, moved = _tiny_step("fomm", lr=0.0)
    assert moved, "expected BatchNorm running statistics to move in train mode"
    assert changed == []


@pytest.mark.parametrize("name", MODELS)
def test_tiny_reconstruct_and_animate_shapes(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, "tiny").eval()
    batch = make_batch(model.config)
    driving = torch.stack([batch["driving"]] * FRAMES, dim=1)
    extra = {
        "source_face": batch["source_face"],
        "driving_face": torch.stack([batch["driving_face"]] * FRAMES, dim=1),
        "source_face_box": batch["source_face_box"],
        "driving_face_box": torch.stack([batch["driving_face_box"]] * FRAMES, dim=1),
        "source_pose": batch["source_pose"],
        "driving_pose": torch.stack([batch["driving_pose"]] * FRAMES, dim=1),
    }
    with torch.no_grad():
        outputs = [model.reconstruct(batch["source"], driving, **extra)]
        outputs += [
            model.animate(batch["source"], driving, mode=m, **extra) for m in model.animate_modes
        ]
    for out in outputs:
        assert out.shape == driving.shape
        assert torch.isfinite(out).all()
        assert out.min() >= 0.0 and out.max() <= 1.0
