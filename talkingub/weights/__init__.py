"""Weights registry: every pretrained file the toolkit can use, with its source and sha256.

Nothing downloads behind the user's back: code that needs weights calls `resolve(name)`,
which returns the local path or raises `WeightsMissingError` naming the exact
`talkingub weights fetch NAME` command.
"""

from talkingub.weights.registry import (
    WEIGHTS,
    WeightsSpec,
    register_weights,
    resolve,
    verify,
    weights_dir,
)

__all__ = ["WEIGHTS", "WeightsSpec", "register_weights", "resolve", "verify", "weights_dir"]
