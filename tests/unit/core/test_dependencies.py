"""Declared dependencies are true to the imports: every third-party module the package imports
comes from a distribution pyproject.toml declares (core or an extra), and every declared
distribution is imported somewhere, or is listed below with the reason it is declared anyway."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[3]

# Declared without an import of their own, and why.
NOT_IMPORTED = {
    "protobuf": "version pin: mediapipe 0.10.14 breaks with protobuf 5",
    "pytest-timeout": "pytest plugin (the `timeout` setting in pyproject.toml)",
    "ruff": "linter run by scripts/test.sh",
    "mypy": "type checker run by scripts/test.sh",
    "setuptools": "pin below 81: TensorBoard 2.20 (protobuf 4, for mediapipe) needs pkg_resources",
    "onnx": "torch.onnx.export needs it: tests write random-weight ONNX files (dev extra)",
}
# Modules whose distribution records no top-level name that importlib.metadata can map.
DISTRIBUTION_OF = {"dlib": {"dlib-bin"}}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return normalise(re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0])


def declared() -> dict[str, set[str]]:
    """Distribution -> the groups that declare it (`core`, or an extra's name)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    groups = {"core": project["dependencies"], **project["optional-dependencies"]}
    out: dict[str, set[str]] = {}
    for group, requirements in groups.items():
        for requirement in requirements:
            name = requirement_name(requirement)
            if name != "talkingub":  # an extra that includes other extras
                out.setdefault(name, set()).add(group)
    return out


def _guarded(tree: ast.AST) -> set[int]:
    """ids of import nodes inside `try: ... except ImportError` (optional imports)."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            h.type is not None and "ImportError" in ast.unparse(h.type) for h in node.handlers
        ):
            ids.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return ids


def imported_modules(root: Path) -> tuple[set[str], set[str]]:
    """(required, optional) top-level third-party modules imported under `root`. Literal
    `find_spec("name")` look-ups count as optional uses (data-only packages)."""
    required: set[str] = set()
    optional: set[str] = set()
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        guarded = _guarded(tree)
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif _is_find_spec(node):
                optional.add(node.args[0].value)  # type: ignore[attr-defined]
            for name in names:
                (optional if id(node) in guarded else required).add(name.split(".")[0])
    third_party = {m for m in required | optional if m not in sys.stdlib_module_names}
    third_party -= {"talkingub", "tests", "benchmarks"}
    return required & third_party, (optional - required) & third_party


def _is_find_spec(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and ast.unparse(node.func).endswith("find_spec")
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def distributions_of(module: str) -> set[str]:
    found = {normalise(d) for d in packages_distributions().get(module, [])}
    return found | DISTRIBUTION_OF.get(module, set())


def test_every_imported_module_comes_from_a_declared_distribution() -> None:
    required, _ = imported_modules(REPO / "talkingub")
    names = set(declared())
    undeclared = {
        m: sorted(distributions_of(m)) for m in required if not distributions_of(m) & names
    }
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_every_declared_distribution_is_imported_or_explained() -> None:
    package = imported_modules(REPO / "talkingub")
    tests = imported_modules(REPO / "tests")  # the dev extra serves the test suite
    modules = set().union(*package, *tests)
    used = set().union(*(distributions_of(m) for m in modules))
    unused = sorted(d for d in declared() if d not in used and d not in NOT_IMPORTED)
    assert not unused, f"declared in pyproject.toml but never imported: {unused}"
    stale = sorted(d for d in NOT_IMPORTED if d in used or d not in declared())
    assert not stale, f"NOT_IMPORTED lists distributions that need no excuse: {stale}"


def test_the_check_sees_real_imports_and_guards() -> None:
    """The scan itself: a module imported at top level is required, one under
    `except ImportError` optional; the known cases of this package come out that way."""
    required, optional = imported_modules(REPO / "talkingub")
    assert {"torch", "numpy", "av", "cv2", "PIL", "dlib"} <= required
    assert "urllib3" in optional  # fetch/reasons.py imports it under an ImportError guard
    assert "face_recognition_models" in optional  # located with find_spec, never imported
    assert declared()["pillow"] == {"core"}
