"""`import_official(method, file)`: an official checkpoint as a bench-format checkpoint.

Steps: read the file with the safe loader (and its sha256, from the same open file); pick the
published variant (named, the only one, or from the file name); resolve our config (the
`paper` config with the variant's official settings, the checkpoint's sampling convention and,
since an imported checkpoint is for inference, no loss term that needs a pretrained teacher);
build our model; map every official tensor with the method's key map (`keymap.apply_rules`:
shapes checked, constants compared, dropped tensors named); load it strictly; write the
checkpoint with `talkingub.bench.checkpoint.save` (sha256 sidecar). The checkpoint holds what
`load_model_weights` reads (`method`, `variant`, `model_config`, `model`) plus `source`: the
official file(s) with sha256, repository and layout, the sampling convention applied, the
config changes, the variant's training settings and the complete key map. A release of several
files (LivePortrait's folder) is recorded under its folder's name with each file's sha256.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from talkingub import __version__
from talkingub.bench.checkpoint import save
from talkingub.bench.official.keymap import MappedState, OfficialImportError, apply_rules
from talkingub.bench.official.layout import LAYOUTS, OfficialLayout, ReadResult, Variant
from talkingub.config import load_yaml, set_dotted, to_dict
from talkingub.models.base import SynthesisModel

BASE_CONFIG = "paper"
OUT_FOLDER = "official"  # under the weights folder


def layout_for(method: str) -> OfficialLayout:
    from talkingub.bench import official  # noqa: F401 - registers the built-in layouts

    return LAYOUTS.get(method)


def default_output(method: str, variant: str) -> Path:
    """`<weights folder>/official/<method>-<variant>.pt`."""
    from talkingub.weights.registry import weights_dir

    return weights_dir() / OUT_FOLDER / f"{method}-{variant}.pt"


@dataclasses.dataclass(frozen=True)
class ImportResult:
    path: Path  # the bench-format checkpoint written
    source: dict[str, Any]  # its `source` record


def import_official(
    method: str,
    file: str | Path,
    variant: str | None = None,
    out: str | Path | None = None,
    config: Any = None,
) -> Path:
    """Import the official checkpoint `file` of `method`; returns the checkpoint written.

    `variant` (vox | ted | taichi) defaults to the one the file name names. `out` defaults to
    `default_output`. `config` replaces our config the weights are mapped onto (a variant name,
    YAML path, dict or config object, e.g. `tiny` in tests); by default it is `paper` with the
    official variant's settings."""
    return run_import(method, file, variant, out, config).path


def run_import(
    method: str,
    file: str | Path,
    variant: str | None = None,
    out: str | Path | None = None,
    config: Any = None,
) -> ImportResult:
    """`import_official`, returning the `source` record beside the path."""
    layout = layout_for(method)
    path = Path(file).expanduser()
    chosen = layout.variant_for(variant, path)
    read = layout.read(path)
    model_config, changes, base = resolve_config(layout, chosen, config)
    from talkingub.models.registry import create_model

    model = create_model(method, model_config)
    flat, entries, ignored, may_stay = flatten(layout, read, model)
    mapped = apply_rules(
        flat,
        layout.rules(model),
        model.state_dict(),
        dict(model.named_buffers()),
        may_stay,
    )
    model.load_state_dict(mapped.state)
    target = Path(out).expanduser() if out is not None else default_output(method, chosen.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    record = source_record(layout, chosen, read, mapped, entries, ignored, changes, model_config)
    state = {
        "method": method,
        "variant": base,
        "seed": None,
        "step": 0,
        "model_config": to_dict(model_config),
        "model": model.state_dict(),
        "protocol": None,
        "build": None,  # published weights: no Talking-UB build
        "source": record,
    }
    return ImportResult(save(target, state), record)


def resolve_config(
    layout: OfficialLayout, variant: Variant, config: Any
) -> tuple[Any, dict[str, list[Any]], str]:
    """(our config, the changes made to it as field -> [before, after], the base's name)."""
    from talkingub.bench.pretrained import pretrained_terms
    from talkingub.models.registry import load_model_config, model_spec

    if config is None:
        data = load_yaml(model_spec(layout.method).config_path(BASE_CONFIG))
        for key, value in variant.overrides.items():
            set_dotted(data, key, value)
        resolved, base = load_model_config(layout.method, data), BASE_CONFIG
    else:
        resolved = load_model_config(layout.method, config)
        base = config if isinstance(config, str) else "custom"
    wanted = layout.config_changes(resolved)
    wanted.update({term.key: term.without for term in pretrained_terms(resolved)})
    changes = {
        key: [getattr(resolved, key), value]
        for key, value in wanted.items()
        if getattr(resolved, key) != value
    }
    return dataclasses.replace(resolved, **wanted), changes, base


def flatten(
    layout: OfficialLayout, read: ReadResult, model: SynthesisModel
) -> tuple[dict[str, torch.Tensor], dict[str, str], list[str], Any]:
    """The official tensors of the entries our model uses, keyed `<entry>.<key>`; what became
    of each entry; the other top-level keys (optimisers, epochs, args); and the `may_stay`
    test (our keys of an optional entry the file lacks keep their values)."""
    contents = read.contents
    known = {entry.key for entry in layout.entries}
    missing = [e.key for e in layout.entries if e.required and e.key not in contents]
    if missing:
        raise OfficialImportError(
            f"{read.files[0].name} is not an official {layout.method} checkpoint: it has no "
            f"{', '.join(missing)} (top-level keys: {', '.join(map(str, contents)) or 'none'})"
        )
    ours = list(model.state_dict())
    flat: dict[str, torch.Tensor] = {}
    entries: dict[str, str] = {}
    absent: list[str] = []
    for entry in layout.entries:
        used = any(key.startswith(entry.ours + ".") for key in ours)
        if entry.key not in contents:
            entries[entry.key] = f"not in the file: {entry.when_missing}"
            absent.append(entry.ours + ".")
        elif not used:
            entries[entry.key] = f"not imported: {entry.when_unused}"
        else:
            module = contents[entry.key]
            if not isinstance(module, dict):
                raise OfficialImportError(
                    f"official entry {entry.key} holds a {type(module).__name__}, not a state dict"
                )
            flat.update({f"{entry.key}.{key}": value for key, value in module.items()})
            entries[entry.key] = f"imported into {entry.ours}"
    ignored = sorted(str(key) for key in contents if key not in known)

    def may_stay(key: str) -> bool:
        return layout.may_stay(key) or any(key.startswith(prefix) for prefix in absent)

    return flat, entries, ignored, may_stay


def source_record(
    layout: OfficialLayout,
    variant: Variant,
    read: ReadResult,
    mapped: MappedState,
    entries: dict[str, str],
    ignored: list[str],
    changes: dict[str, list[Any]],
    model_config: Any,
) -> dict[str, Any]:
    """The checkpoint's `source`: plain values only (it loads with the safe loader)."""
    files = [dataclasses.asdict(f) for f in read.files]
    published = {
        f.name: variant.published_sha256[f.name] == f.sha256
        for f in read.files
        if f.name in variant.published_sha256
    }
    single = len(read.files) == 1
    record: dict[str, Any] = {
        "kind": "official",
        "method": layout.method,
        "variant": variant.name,
        # a release of several files: its folder's name, each file's sha256 under "files"
        "file": read.files[0].name if single else read.name or read.files[0].name,
        "sha256": read.files[0].sha256 if single else None,
        "size": sum(f.size for f in read.files),
        "files": files,
        "published_sha256_match": published or None,
        "published_sha256_from": variant.published_from or None,
        "repository": layout.repository,
        "commit": layout.commit,
        "layout": layout.layout,
        "trained_with": variant.config,
        "image_size": variant.image_size,
        "animation": variant.animation,
        "settings": {
            key: {"value": value, "source": variant.sources.get(key, variant.config)}
            for key, value in variant.overrides.items()
        },
        "sampling": {
            "align_corners": layout.sampling.align_corners,
            "applied": layout.sampling_applied(model_config),
            "evidence": layout.sampling.evidence,
        },
        "config_changes": changes,
        "entries": entries,
        "ignored": ignored,
        "key_map": mapped.key_map,
        "fixed": mapped.fixed,
        "dropped": mapped.dropped,
        "kept_initial": mapped.left,
        "imported_by": f"talkingub {__version__}",
    }
    return record
