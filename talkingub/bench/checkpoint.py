"""Training checkpoints: model, optimisers, LR schedules, AMP scaler and every process's RNG
state, written atomically (temporary name, fsync, rename), so a run killed at any moment
resumes from the last complete checkpoint and continues bit for bit (deterministic mode)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from talkingub.errors import ConfigError
from talkingub.io.atomic import atomic_path

CHECKPOINT_VERSION = 1


def rng_state(device: torch.device) -> dict[str, Any]:
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def save(path: Path, state: dict[str, Any]) -> Path:
    with atomic_path(path) as tmp:
        torch.save({"version": CHECKPOINT_VERSION, **state}, tmp)
    return path


def load(path: Path, device: torch.device) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"checkpoint not found: {path}")
    state: dict[str, Any] = torch.load(path, map_location=device, weights_only=False)
    if state.get("version") != CHECKPOINT_VERSION:
        raise ConfigError(f"{path}: unsupported checkpoint version {state.get('version')}")
    return state


def load_model_weights(
    path: Path, device: torch.device | str = "cpu"
) -> tuple[Any, dict[str, Any]]:
    """(model, checkpoint) from a `final.pt` or `last.pt` written by the bench trainer."""
    from talkingub.models.registry import create_model

    state = load(Path(path), torch.device(device))
    # the resolved config (e.g. with --without-pretrained-losses) where the file records it
    model = create_model(state["method"], state.get("model_config") or state["variant"])
    model.load_state_dict(state["model"])
    return model.to(device).eval(), state
