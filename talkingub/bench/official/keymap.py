"""The key map from an official checkpoint's layout onto ours, and the checks that apply it.

A map is a list of `Rule`s, written per method from the reference code. A rule's `official`
pattern names official keys (full names, the file's entry first: `generator.first.conv.weight`)
with placeholders: `{rest}` stands for any dotted tail, every other `{name}` for a number; its
`ours` template names our key with the same placeholders. Every official tensor must match
exactly one rule, so the map is explicit and unambiguous; the rule says what happens to it:

- `copy`: loaded into our key; the shapes must be equal.
- `reshape`: loaded into our key after a reshape that only adds or removes dimensions of size
  1 (StyleGAN-style `[1, C, 1, 1]` biases and `[1, O, I, k, k]` weights stored as `[C]`,
  `[O, I, k, k]`); anything else is a shape mismatch.
- `fixed`: a constant of the official module (anti-alias and blur kernels): not loaded, but
  checked equal to the constant our module computes (`ours` names our buffer).
- `drop`: an official tensor the official forward pass never uses; `reason` says why.

`apply_rules` returns our full state dict plus the record of what went where; every official
tensor is accounted for and every key of ours is filled, or it raises `OfficialImportError`
naming the key (a shape mismatch names the official key, our key and both shapes).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import torch

from talkingub.errors import ConfigError

Action = Literal["copy", "reshape", "fixed", "drop"]
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
FIXED_TOLERANCE = 1e-6


class OfficialImportError(ConfigError):
    """An official checkpoint cannot be mapped onto our model; the message names the key."""


@dataclasses.dataclass(frozen=True)
class Rule:
    official: str
    ours: str = ""
    action: Action = "copy"
    reason: str = ""

    def __post_init__(self) -> None:
        if self.action == "drop" and not self.reason:
            raise ValueError(f"rule {self.official!r}: a dropped tensor needs a reason")
        if self.action != "drop" and not self.ours:
            raise ValueError(f"rule {self.official!r}: {self.action} needs our key")

    def target(self, key: str) -> str | None:
        """Our key for official `key` ("" for a dropped tensor), None when it does not match."""
        found = _compiled(self.official).fullmatch(key)
        if found is None:
            return None
        return self.ours.format(**found.groupdict()) if self.ours else ""


def same(official: str, ours: str | None = None) -> Rule:
    """Copy a whole subtree whose inner names are the same on both sides."""
    return Rule(f"{official}.{{rest}}", f"{ours or official}.{{rest}}")


_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _CACHE:
        parts, pos = [], 0
        for found in _PLACEHOLDER.finditer(pattern):
            parts.append(re.escape(pattern[pos : found.start()]))
            name = found.group(1)
            parts.append(f"(?P<{name}>.+)" if name == "rest" else f"(?P<{name}>\\d+)")
            pos = found.end()
        parts.append(re.escape(pattern[pos:]))
        _CACHE[pattern] = re.compile("".join(parts))
    return _CACHE[pattern]


@dataclasses.dataclass
class MappedState:
    """Our state dict filled from the official tensors, and where each one went."""

    state: dict[str, torch.Tensor]
    key_map: dict[str, str]  # official key -> our key (copied or reshaped)
    fixed: dict[str, str]  # official constant -> our buffer it was checked against
    dropped: dict[str, str]  # official key -> why it is not loaded
    left: list[str]  # our keys kept at their initial value (allowed by `may_stay`)


def apply_rules(
    official: Mapping[str, torch.Tensor],
    rules: Sequence[Rule],
    ours: Mapping[str, torch.Tensor],
    buffers: Mapping[str, torch.Tensor],
    may_stay: Callable[[str], bool],
) -> MappedState:
    """Map `official` (flat keys) onto `ours` (our state dict) with `rules`. `buffers` holds
    every buffer of our model (the non-persistent anti-alias kernels too) for `fixed` rules;
    `may_stay(key)` says which of our keys may keep their value when no tensor reaches them."""
    result = MappedState(dict(ours), {}, {}, {}, [])
    filled: dict[str, str] = {}
    for key, tensor in official.items():
        rule, target = _rule_for(key, tensor, rules)
        if rule.action == "drop":
            result.dropped[key] = rule.reason
        elif rule.action == "fixed":
            _check_fixed(key, tensor, target, buffers)
            result.fixed[key] = target
            if target in ours:  # a persistent buffer of ours: it keeps its (equal) value
                filled[target] = key
        else:
            if target not in ours:
                raise OfficialImportError(
                    f"official key {key} maps to {target}, which our model does not have"
                )
            if target in filled:
                raise OfficialImportError(
                    f"official keys {filled[target]} and {key} both map to our {target}"
                )
            result.state[target] = _converted(key, tensor, target, ours[target], rule.action)
            result.key_map[key] = target
            filled[target] = key
    for key in ours:
        if key in filled:
            continue
        if not may_stay(key):
            raise OfficialImportError(
                f"our key {key} {tuple(ours[key].shape)} gets no tensor from the official file"
            )
        result.left.append(key)
    return result


def _rule_for(key: str, tensor: object, rules: Sequence[Rule]) -> tuple[Rule, str]:
    if not isinstance(tensor, torch.Tensor):
        kind = type(tensor).__name__
        raise OfficialImportError(f"official key {key} holds a {kind}, not a tensor")
    hits = [(rule, target) for rule in rules if (target := rule.target(key)) is not None]
    if not hits:
        raise OfficialImportError(
            f"official key {key} {tuple(tensor.shape)} has no rule in the key map (a layout "
            "this importer does not know: another version of the official code?)"
        )
    if len(hits) > 1:
        patterns = ", ".join(rule.official for rule, _ in hits)
        raise OfficialImportError(f"official key {key} matches several rules: {patterns}")
    return hits[0]


def _converted(
    key: str, tensor: torch.Tensor, target: str, like: torch.Tensor, action: Action
) -> torch.Tensor:
    official, expected = tuple(tensor.shape), tuple(like.shape)
    if official != expected:
        squeezable = action == "reshape" and _squeezed(official) == _squeezed(expected)
        if not squeezable:
            raise OfficialImportError(
                f"shape mismatch at official key {key}: the file has {official}, our {target} "
                f"expects {expected}"
            )
        tensor = tensor.reshape(expected)
    return tensor.detach().to(dtype=like.dtype).clone()


def _squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(size for size in shape if size != 1)


def _check_fixed(
    key: str, tensor: torch.Tensor, target: str, buffers: Mapping[str, torch.Tensor]
) -> None:
    if target not in buffers:
        raise OfficialImportError(
            f"official constant {key} is checked against our {target}, which our model lacks"
        )
    ours = buffers[target]
    if tuple(tensor.shape) != tuple(ours.shape):
        raise OfficialImportError(
            f"shape mismatch at official key {key}: the file has {tuple(tensor.shape)}, our "
            f"{target} expects {tuple(ours.shape)}"
        )
    gap = (tensor.double() - ours.double()).abs().max().item() if tensor.numel() else 0.0
    if gap > FIXED_TOLERANCE:
        raise OfficialImportError(
            f"official constant {key} differs from our {target} (max |difference| {gap:.3g}): "
            "the file was written by other code than the one this map follows"
        )
