"""`analysis.plugins`: user modules imported before the backend is looked up."""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from talkingub.config import from_dict
from talkingub.curate.analysis import ANALYZERS
from talkingub.curate.analysis.plugins import backend_factory, check_backend, load_plugins
from talkingub.curate.config import AnalysisConfig, BuildConfig
from talkingub.errors import ConfigError, PluginError

PLUGIN = """
from talkingub.curate.analysis import ANALYZERS

@ANALYZERS.register("{name}")
class Backend:
    name = "{name}"
    version = "1"

    def __init__(self, min_face_score=0.5, pose_every=1):
        pass

    def detect(self, frames):
        return []

    def close(self):
        pass
"""


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path; modules written there and their registrations are undone after."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(ANALYZERS, "_entries", dict(ANALYZERS._entries))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith("userplug_"):
            del sys.modules[name]


def write(folder: Path, module: str, text: str) -> str:
    (folder / f"{module}.py").write_text(textwrap.dedent(text))
    return module


def test_a_plugin_module_registers_its_backend_before_lookup(plugin_dir: Path) -> None:
    module = write(plugin_dir, "userplug_ok", PLUGIN.format(name="user-backend"))
    config = AnalysisConfig(backend="user-backend", plugins=(module,))
    assert "user-backend" not in ANALYZERS
    factory = backend_factory(config)
    assert factory().name == "user-backend"
    check_backend(config)  # now registered: no error


def test_without_the_plugin_the_backend_is_unknown(plugin_dir: Path) -> None:
    write(plugin_dir, "userplug_unused", PLUGIN.format(name="never-imported"))
    with pytest.raises(ConfigError, match="unknown person-analysis backend 'never-imported'"):
        check_backend(AnalysisConfig(backend="never-imported"))


def test_a_missing_plugin_module_is_a_typed_error_naming_it() -> None:
    with pytest.raises(PluginError, match=re.escape("'no_such_pkg.backend'")) as err:
        check_backend(AnalysisConfig(plugins=("no_such_pkg.backend",)))
    assert err.value.module == "no_such_pkg.backend"
    assert isinstance(err.value, ConfigError)  # the CLI prints it as a config error


def test_a_plugin_whose_dependency_is_missing_names_the_plugin(plugin_dir: Path) -> None:
    module = write(plugin_dir, "userplug_broken", "import not_installed_dependency_xyz\n")
    with pytest.raises(PluginError, match=r"'userplug_broken'.*not_installed_dependency_xyz"):
        load_plugins((module,))


def test_plugins_come_from_the_recipe_and_change_the_analysis_cache_key() -> None:
    recipe = from_dict(BuildConfig, {"analysis": {"plugins": ["my_pkg.backend"]}})
    assert recipe.analysis.plugins == ("my_pkg.backend",)
    assert recipe.analysis_key() != BuildConfig().analysis_key()
    with pytest.raises(ConfigError, match=re.escape("analysis.plugins")):
        from_dict(BuildConfig, {"analysis": {"plugins": "my_pkg.backend"}})


def test_the_built_in_backends_are_registered() -> None:
    assert {"mediapipe", "mediapipe+dlib68"} <= set(ANALYZERS.names())
