"""timm-style model registry: `register_model`, `create_model`, `list_models`.

Models live in the `talkingub/zoo/<model>/` packages; importing `talkingub.zoo` registers
them. Each model has YAML configs `talkingub/zoo/<model>/configs/<variant>.yaml` (`paper`, `tiny`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from talkingub.config import from_dict, load_yaml
from talkingub.errors import ConfigError
from talkingub.models.optim import upgrade_legacy_keys
from talkingub.registry import Registry

if TYPE_CHECKING:  # torch stays out of importing the registry
    from talkingub.models.base import SynthesisModel


class ModelSpec:
    """What a model registers: its class, its config dataclass and its config folder."""

    def __init__(self, cls: type[SynthesisModel], config_cls: type, config_dir: Path) -> None:
        self.cls = cls
        self.config_cls = config_cls
        self.config_dir = config_dir

    def variants(self) -> list[str]:
        return sorted(p.stem for p in self.config_dir.glob("*.yaml"))

    def config_path(self, variant: str) -> Path:
        path = self.config_dir / f"{variant}.yaml"
        if not path.is_file():
            raise ConfigError(f"no config variant {variant!r} (have: {', '.join(self.variants())})")
        return path


MODELS: Registry[ModelSpec] = Registry("model")
_LOADED = False


def register_model(name: str, config_cls: type, config_dir: str | Path) -> Callable[[type], type]:
    """Class decorator: `@register_model("fomm", FOMMConfig, Path(__file__).parent / "configs")`."""

    def decorator(cls: type) -> type:
        MODELS.add(name, ModelSpec(cls, config_cls, Path(config_dir)))
        cls.model_name = name  # type: ignore[attr-defined]
        return cls

    return decorator


def _load_zoo() -> None:
    global _LOADED
    if not _LOADED:
        importlib.import_module("talkingub.zoo")
        _LOADED = True


def list_models(pattern: str = "*") -> list[str]:
    _load_zoo()
    return MODELS.names(pattern)


def model_spec(name: str) -> ModelSpec:
    _load_zoo()
    return MODELS.get(name)


def load_model_config(name: str, config: Any = "tiny", **overrides: Any) -> Any:
    """Config object from a variant name, a YAML path, a dict, or an existing config. Old
    optimiser key names (e.g. in an older checkpoint's `model_config`) are renamed first
    (`talkingub.models.optim.upgrade_legacy_keys`)."""
    spec = model_spec(name)
    if isinstance(config, spec.config_cls):
        data: dict[str, Any] = {}
        base = config
    else:
        base = None
        if isinstance(config, dict):
            data = dict(config)
        elif isinstance(config, str | Path) and Path(str(config)).suffix in (".yaml", ".yml"):
            data = load_yaml(config)
        else:
            data = load_yaml(spec.config_path(str(config)))
    data.pop("sources", None)  # citations live beside the values in the YAML
    if base is not None:
        import dataclasses

        return dataclasses.replace(base, **overrides)  # type: ignore[type-var]
    data.update(overrides)
    return from_dict(spec.config_cls, upgrade_legacy_keys(data), where=name)


def create_model(name: str, config: Any = "tiny", **overrides: Any) -> Any:
    spec = model_spec(name)
    return spec.cls(load_model_config(name, config, **overrides))
