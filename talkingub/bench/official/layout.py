"""What an importer knows about one method's official checkpoints: the file's layout, the
published variants, the sampling convention and the key map (`OfficialLayout`).

One subclass per method (`fomm.py`, `mraa.py`, `tpsmm.py`, `lia.py`, `liveportrait.py`)
registers itself with `register_layout`; `talkingub weights import METHOD FILE` looks it up by
method name. A method whose release is not one `torch.save` file (LivePortrait's module files in
a folder) overrides `read` and returns every file it read (`read_hashed` reads one).
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from talkingub.bench.official.keymap import OfficialImportError, Rule
from talkingub.registry import Registry

if TYPE_CHECKING:
    from talkingub.models.base import SynthesisModel


@dataclasses.dataclass(frozen=True)
class Entry:
    """A top-level entry of the official file holding one module's state dict."""

    key: str  # e.g. "generator"
    ours: str  # our module it maps onto (its state-dict prefix), e.g. "generator"
    required: bool = True
    # Why the entry is not imported when our model has no such module (our config builds none).
    when_unused: str = ""
    # What it means when an optional entry is absent (our module keeps its initial values).
    when_missing: str = ""


@dataclasses.dataclass(frozen=True)
class Variant:
    """One published checkpoint: the dataset it was trained on and how."""

    name: str  # vox | ted | taichi
    files: tuple[str, ...]  # the file names of the official release
    config: str  # the official config it was trained with (repository path @ commit)
    image_size: int  # the frame size it was trained on
    animation: str  # how the official demo / evaluation animates with it
    # Changes to our `paper` config (dotted keys) that give the official settings, and where
    # each value comes from.
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # sha256 of the released file where the publisher states one (file name -> digest).
    published_sha256: Mapping[str, str] = dataclasses.field(default_factory=dict)
    published_from: str = ""  # where those digests are stated


@dataclasses.dataclass(frozen=True)
class Sampling:
    """The `grid_sample` / bilinear `interpolate` convention the checkpoint was trained with."""

    align_corners: bool
    evidence: str


@dataclasses.dataclass(frozen=True)
class SourceFile:
    name: str
    sha256: str
    size: int


@dataclasses.dataclass(frozen=True)
class ReadResult:
    """The official file's contents (top-level mapping) and what was read."""

    contents: dict[str, Any]
    files: tuple[SourceFile, ...]
    # What the record calls a release of several files (its folder's name); one file: its name.
    name: str = ""


class OfficialLayout:
    """Base class of the per-method importers (see the module docstring)."""

    method: ClassVar[str]
    repository: ClassVar[str]  # owner/name of the official code
    commit: ClassVar[str]  # the commit whose modules/*.py the key map follows
    layout: ClassVar[str]  # one line: what the file holds
    entries: ClassVar[tuple[Entry, ...]]
    variants: ClassVar[Mapping[str, Variant]]
    sampling: ClassVar[Sampling]
    # Globals the safe loader may build besides tensors and plain values (LIA: argparse args).
    safe_globals: ClassVar[tuple[Any, ...]] = ()

    def rules(self, model: SynthesisModel) -> list[Rule]:
        """The key map for `model` (our model built with the imported config)."""
        raise NotImplementedError

    def config_changes(self, config: Any) -> dict[str, Any]:
        """Top-level config fields to set so that our model behaves as the official code: the
        sampling convention (where the config has the field)."""
        names = {f.name for f in dataclasses.fields(config)}
        return {"align_corners": self.sampling.align_corners} if "align_corners" in names else {}

    def may_stay(self, key: str) -> bool:
        """Our keys that may keep their initial value when the file has no tensor for them:
        BatchNorm's `num_batches_tracked` (files from torch < 0.4.1 lack it; it only matters
        for momentum=None, which none of these models uses)."""
        return key.endswith("num_batches_tracked")

    def sampling_applied(self, config: Any) -> bool:
        """Whether our model built with `config` samples as the checkpoint was trained: its
        `align_corners` field equals the checkpoint's (a layout whose model has no such field
        overrides this and says why)."""
        return getattr(config, "align_corners", None) == self.sampling.align_corners

    def variant_for(self, requested: str | None, file: Path) -> Variant:
        """The variant named, else the only one, else the one the file name names (vox / ted /
        taichi)."""
        if requested is not None:
            if requested not in self.variants:
                raise OfficialImportError(
                    f"{self.method}: no published variant {requested!r} "
                    f"(have: {', '.join(self.variants)})"
                )
            return self.variants[requested]
        if len(self.variants) == 1:
            return next(iter(self.variants.values()))
        stem = file.name.lower()
        named = [v for name, v in self.variants.items() if name in stem]
        if len(named) != 1:
            raise OfficialImportError(
                f"{self.method}: cannot tell the variant from the file name {file.name!r}; "
                f"pass --variant ({' | '.join(self.variants)})"
            )
        return named[0]

    def read(self, path: Path) -> ReadResult:
        """One `torch.save` file, read with the safe loader (hashed from the same open file)."""
        if not path.is_file():
            raise OfficialImportError(f"{self.method}: official checkpoint not found: {path}")
        contents, source = read_hashed(path, path.name, self.safe_globals)
        return ReadResult(contents, (source,))


def read_hashed(
    path: Path, name: str, allow: tuple[Any, ...] = ()
) -> tuple[dict[str, Any], SourceFile]:
    """One `torch.save` file with the safe loader, and its sha256 and size from the same open
    file; `name` is what the record calls it."""
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
        size = handle.tell()
        handle.seek(0)
        contents = safe_load(path, handle, allow)
    return contents, SourceFile(name, digest, size)


def safe_load(path: Path, source: Any, allow: tuple[Any, ...] = ()) -> dict[str, Any]:
    """`torch.load(weights_only=True)`: tensors and plain values only (plus `allow`); nothing
    in the file runs. A refusal names what the file needed."""
    try:
        with warnings.catch_warnings(), torch.serialization.safe_globals(list(allow)):
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            contents = torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = " ".join(str(exc).split())
        needed = re.search(r"Unsupported global: GLOBAL (\S+)", text)
        if needed:
            raise OfficialImportError(
                f"{path}: the safe loader refused the file (it needs {needed.group(1)}); nothing "
                "in it was run. Official checkpoints hold only tensors and plain values: is "
                "this the published file?"
            ) from None
        detail = text.split("WeightsUnpickler error:")[-1].split("Check the documentation")[0]
        raise OfficialImportError(
            f"{path}: not a torch checkpoint the safe loader can read ({detail.strip()[:200]}); "
            "nothing in it was run"
        ) from None
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise OfficialImportError(
            f"{path}: not a readable torch checkpoint ({type(exc).__name__}: {first})"
        ) from None
    if not isinstance(contents, dict):
        raise OfficialImportError(f"{path}: holds a {type(contents).__name__}, not a dict")
    return contents


LAYOUTS: Registry[OfficialLayout] = Registry("official checkpoint layout")


def register_layout(layout: OfficialLayout) -> OfficialLayout:
    LAYOUTS.add(layout.method, layout)
    return layout
