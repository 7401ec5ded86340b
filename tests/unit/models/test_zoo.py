"""One contract test over every registered model (tiny configs, CPU)."""

from __future__ import annotations

import math

import pytest
import torch

from talkingub import create_model, list_models

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
    return {
        "source": images(batch, 3, size, size),
        "driving": images(batch, 3, size, size),
        "source_face": images(batch, 3, face, face),
        "driving_face": images(batch, 3, face, face),
        "source_face_box": box,
        "driving_face_box": box.clone(),
    }


def test_registry_lists_every_model() -> None:
    assert sorted(MODELS) == MODELS
    assert len(MODELS) >= 1


@pytest.mark.parametrize("name", MODELS)
def test_tiny_train_step_updates_weights(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, "tiny")
    model.train()
    optimizers = {
        group: torch.optim.Adam(params, lr=1e-3)
        for group, params in model.parameter_groups().items()
    }
    before = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}
    losses = model.train_step(make_batch(model.config), optimizers)
    assert losses, "train_step returned no losses"
    assert all(math.isfinite(v) for v in losses.values()), losses
    after = model.state_dict()
    changed = [k for k, v in before.items() if not torch.equal(v, after[k])]
    assert changed, "no weight changed after one optimizer step"


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
