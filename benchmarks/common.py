"""Shared helpers for the benchmark scripts: machine facts, result files, peer media."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PEERS = Path(
    os.environ.get(
        "TALKINGUB_PEERS", Path(__file__).resolve().parents[2] / "shared" / "data" / "peers"
    )
)


def machine() -> dict[str, Any]:
    import torch

    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "versions": {p: _version(p) for p in ("talkingub", "av", "mediapipe", "scenedetect")},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def write_result(name: str, payload: dict[str, Any], folder: Path = RESULTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2, sort_keys=True))
    return path


def peer(relative: str) -> Path:
    path = PEERS / relative
    if not path.is_file():
        raise SystemExit(f"peer media missing: {path} (set TALKINGUB_PEERS)")
    return path
