"""Loss terms that need pretrained networks, and the explicit opt-out.

Some models train with frozen pretrained teachers: the VGG-19 perceptual loss (every method,
`perceptual: pretrained`), the Hopenet head-pose teacher of OSFV/PTUS/LivePortrait
(`head_pose_loss: true`) and LivePortrait's ArcFace (`face_id: pretrained`) and FAN-68
(`landmark_guide: true`) teachers. Before any method trains, `require_weights` checks the weights
registry for every teacher the protocol's configs switch on and refuses with the one
`talkingub weights fetch ...` command that fixes it. With `without_pretrained_losses` (CLI
`--without-pretrained-losses`) those terms are switched off in each model config instead;
the run's `run.json` and checkpoints record the flag, the dropped terms and the resolved
config.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from talkingub.bench.protocol import Protocol
from talkingub.errors import WeightsMissingError


@dataclasses.dataclass(frozen=True)
class PretrainedTerm:
    """A model-config switch whose `needs` value builds a teacher from `weights`."""

    key: str  # model config field
    needs: Any  # the value that trains with the pretrained teacher
    without: Any  # the value that drops the loss term
    weights: str  # weights registry entry
    term: str  # loss term name in the training logs


TERMS = (
    PretrainedTerm("perceptual", "pretrained", "off", "vgg19", "perceptual"),
    PretrainedTerm("head_pose_loss", True, False, "hopenet", "head_pose"),
    # LivePortrait: ArcFace face-id loss and FAN-68 landmarks (L_guide, stage-II conditions)
    PretrainedTerm("face_id", "pretrained", "off", "arcface-r50-ms1mv3", "face_id"),
    PretrainedTerm("landmark_guide", True, False, "fan-2dfan4", "guide"),
    # Head3D: F_P starts from Hopenet's weights (not a loss term: the opt-out starts it random)
    PretrainedTerm("pose_init", "hopenet", "random", "hopenet", "pose_init"),
)


def pretrained_terms(config: Any) -> list[PretrainedTerm]:
    """The terms a model config trains with that need pretrained weights."""
    fields = {f.name for f in dataclasses.fields(config)}
    return [t for t in TERMS if t.key in fields and getattr(config, t.key) == t.needs]


def model_config(method: str, protocol: Protocol) -> Any:
    """The config `method` trains with under `protocol` (opt-out applied)."""
    from talkingub.models.registry import load_model_config

    config = load_model_config(method, protocol.variant)
    if not protocol.without_pretrained_losses:
        return config
    changes = {t.key: t.without for t in pretrained_terms(config)}
    return dataclasses.replace(config, **changes) if changes else config


def dropped_terms(method: str, protocol: Protocol) -> list[str]:
    """Loss terms the opt-out removes from `method`'s config (empty without the flag)."""
    if not protocol.without_pretrained_losses:
        return []
    from talkingub.models.registry import load_model_config, model_spec

    named = model_spec(method).cls.teacher_terms
    config = load_model_config(method, protocol.variant)
    return [name for t in pretrained_terms(config) for name in named.get(t.key, (t.term,))]


def missing_weights(methods: Iterable[str], protocol: Protocol) -> dict[str, list[str]]:
    """weights name -> methods that need it and do not find it in the local cache."""
    from talkingub.weights.registry import local_path

    missing: dict[str, list[str]] = {}
    for method in methods:
        for term in pretrained_terms(model_config(method, protocol)):
            if not local_path(term.weights).is_file():
                missing.setdefault(term.weights, []).append(method)
    return missing


def without_missing_teachers(methods: Iterable[str], protocol: Protocol) -> Protocol:
    """The protocol, switched to `without_pretrained_losses` when any teacher weights for
    these methods are absent (what the benchmark scripts train with offline)."""
    if missing_weights(methods, protocol):
        return dataclasses.replace(protocol, without_pretrained_losses=True)
    return protocol


def require_weights(methods: Iterable[str], protocol: Protocol) -> None:
    """Refuse (WeightsMissingError) before training when a teacher's weights are absent."""
    missing = missing_weights(methods, protocol)
    if not missing:
        return
    from talkingub.weights.registry import weights_dir

    needs = "; ".join(f"{name} for {', '.join(users)}" for name, users in missing.items())
    raise WeightsMissingError(
        f"training needs pretrained loss weights not found in {weights_dir()} ({needs}); "
        f"run `talkingub weights fetch {' '.join(missing)}`, or pass "
        "--without-pretrained-losses to train without those loss terms "
        "(recorded in each run's run.json)"
    )
