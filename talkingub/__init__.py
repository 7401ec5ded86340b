"""talkingub: talking upper-body synthesis toolkit.

The Talking-UB dataset builder and the PTUS benchmark.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "create_model", "list_models"]


def list_models(pattern: str = "*") -> list[str]:
    """Names of the registered synthesis models (imports torch lazily)."""
    from talkingub.models.registry import list_models as _list

    return _list(pattern)


def create_model(name: str, config: Any = "tiny", **overrides: Any) -> Any:
    """Build a registered model from a config variant name, a YAML path or a config object."""
    from talkingub.models.registry import create_model as _create

    return _create(name, config, **overrides)
