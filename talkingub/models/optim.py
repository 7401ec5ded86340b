"""The optimiser settings every model config keeps under `optim`, in one naming scheme.

`OptimConfig` is what the bench reads (`talkingub.bench.optim`): Adam `lr` / `betas` /
`weight_decay` for the default optimisers (`SynthesisModel.build_optimizers`), MultiStepLR
`milestones` (in epochs of `epochs`) and `gamma`, and the reference `batch_size`. A model with
settings of its own extends it (LIA: `talkingub.zoo.lia.config.LIAOptim`); the names here keep
their meaning everywhere.

Configs written before the names were unified (FOMM/MRAA/TPSMM `lr_milestones` / `lr_gamma`,
the AVD stage's `lr_milestones`), e.g. the `model_config` of an older checkpoint, load through
`upgrade_legacy_keys`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class OptimConfig:
    """Adam per optimiser group and MultiStepLR at epoch milestones. Defaults: the
    FOMM / MRAA / TPSMM references (vox-256, ted384, ted-384)."""

    lr: float = 2.0e-4
    betas: tuple[float, float] = (0.5, 0.999)
    weight_decay: float = 0.0
    #: epochs of the reference schedule; 0: the method counts no epochs (no milestones).
    epochs: int = 100
    #: MultiStepLR milestones in epochs; the bench maps them onto its step count.
    milestones: tuple[int, ...] = (60, 90)
    gamma: float = 0.1
    num_repeats: int = 1
    batch_size: int = 1
    #: infinity-norm gradient clipping of the motion modules (TPSMM train.py); 0 = none.
    grad_clip_inf_norm: float = 0.0


class HasOptim(Protocol):
    """A model config: whatever else it holds, its optimiser settings are `optim`."""

    @property
    def optim(self) -> OptimConfig: ...


# (section, old key) -> new key, for configs written before the names were unified.
LEGACY_KEYS = {
    ("optim", "lr_milestones"): "milestones",
    ("optim", "lr_gamma"): "gamma",
    ("avd", "lr_milestones"): "milestones",
}


def upgrade_legacy_keys(data: dict[str, Any]) -> dict[str, Any]:
    """`data` (a model config mapping) with the old optimiser key names renamed; a key given
    under both names is left as it is, for `from_dict` to reject."""
    out = dict(data)
    for (section, old), new in LEGACY_KEYS.items():
        values = out.get(section)
        if isinstance(values, dict) and old in values and new not in values:
            values = dict(values)
            values[new] = values.pop(old)
            out[section] = values
    return out
