"""Reference rows: trivial outputs scored by the same evaluation code on the same lists as the
methods, so a table shows what "no learning" scores next to what the methods score.

A reference is a function `(source, driving) -> prediction`: `source` uint8 [H, W, 3] (the
listed source frame), `driving` uint8 [T, H, W, 3] (the listed driving frames), the result
uint8 [T, H, W, 3]. It needs no training and no checkpoint.

- `copy-source`: the source frame, repeated for every driving frame. On consecutive frames of
  one clip this already scores well (little moves); a method that does not beat it has not
  learned motion.
- `copy-driving`: the driving frame itself. For the same-identity and far-pairs lists it is
  the ground truth (L1 0, PSNR inf): the bound no method can pass, and its detector metrics
  (AKD, MKR, ...) are the floor the detectors allow. For the cross-identity list it shows the
  *driving* person: perfect motion, the other person's identity (its AED / CSIM are those of a
  method that ignores the source, the worst identity score).

Register another with `register(name, function, description)`; the bench evaluates the
protocol's `evaluation.references` (default: both) beside its methods, and `--methods
copy-source` evaluates one alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import numpy as np

from talkingub.errors import ConfigError

ReferenceFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Reference:
    name: str
    function: ReferenceFn
    description: str

    def __call__(self, source: np.ndarray, driving: np.ndarray) -> np.ndarray:
        if source.ndim != 3 or driving.ndim != 4:
            raise ValueError(
                f"{self.name}: source [H, W, 3] and driving [T, H, W, 3], "
                f"got {source.shape} and {driving.shape}"
            )
        out = np.asarray(self.function(source, driving))
        if out.shape[0] != driving.shape[0] or out.dtype != np.uint8:
            raise ValueError(f"{self.name}: gave {out.dtype} {out.shape} for {len(driving)} frames")
        return out


def copy_source(source: np.ndarray, driving: np.ndarray) -> np.ndarray:
    return np.repeat(source[None], len(driving), axis=0)


def copy_driving(source: np.ndarray, driving: np.ndarray) -> np.ndarray:
    return driving.copy()


REFERENCES: dict[str, Reference] = {}


def register(name: str, function: ReferenceFn, description: str) -> Reference:
    reference = Reference(name, function, description)
    REFERENCES[name] = reference
    return reference


register("copy-source", copy_source, "the source frame, repeated for every driving frame")
register(
    "copy-driving",
    copy_driving,
    "the driving frame (same identity: the ground truth, the bound; cross identity: the "
    "driving person, perfect motion with the wrong identity)",
)

DEFAULT_REFERENCES = ("copy-source", "copy-driving")


def is_reference(name: str) -> bool:
    return name in REFERENCES


def get_reference(name: str) -> Reference:
    if name not in REFERENCES:
        have = ", ".join(sorted(REFERENCES))
        raise ConfigError(f"no reference {name!r} (have: {have})")
    return REFERENCES[name]


def check_references(names: Iterable[str]) -> tuple[str, ...]:
    """`names` as given, each checked to be a registered reference."""
    return tuple(get_reference(n).name for n in names)


def split_methods(names: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(trainable methods, references) of a list of names, each in the given order."""
    names = tuple(names)
    return (
        tuple(n for n in names if not is_reference(n)),
        tuple(n for n in names if is_reference(n)),
    )
