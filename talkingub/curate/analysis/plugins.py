"""Backends from the user's own modules: `analysis.plugins` lists modules to import first.

A registry entry only exists in a process that imported the module registering it, and
`process` / `ray` workers start from a fresh interpreter. So every lookup of a backend goes
through `backend_factory`, which imports the recipe's plugin modules (once per process) before
asking the registry; the runner calls `check_backend` in the main process so that a missing
module or backend fails the build at once instead of failing every video in the workers.
"""

from __future__ import annotations

import importlib
from typing import Any

from talkingub.curate.analysis.base import ANALYZERS
from talkingub.curate.config import AnalysisConfig
from talkingub.errors import PluginError


def load_plugins(modules: tuple[str, ...]) -> None:
    """Import each module (registering its backends); PluginError names the one that fails."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise PluginError(name, str(exc)) from exc


def check_backend(config: AnalysisConfig) -> None:
    """Plugins import and the backend is registered (ConfigError otherwise); loads no model."""
    load_plugins(config.plugins)
    ANALYZERS.entry(config.backend)


def backend_factory(config: AnalysisConfig) -> Any:
    """The backend class named by the config, after importing its plugin modules."""
    load_plugins(config.plugins)
    return ANALYZERS.get(config.backend)
