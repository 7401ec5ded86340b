"""The zero-shot track: published weights evaluated on the Talking-UB lists without training.

`talkingub bench eval BUILD -o OUT --pretrained NAME=FILE` (repeatable) evaluates FILE, a
bench-format checkpoint (`talkingub weights import METHOD FILE` writes one from the official
FOMM, MRAA, TPSMM, LIA or LivePortrait weights), under the row label NAME, into
`OUT/pretrained/<NAME>/eval/`: the same lists, the same `EvalJob` code and metrics as the
trained methods. Frames are resized to the checkpoint's own `image_size` (256 for the vox
checkpoints) as for every model; a model whose config has a face size (LivePortrait) gets the
build's face boxes with the frames and crops, animates and pastes back itself.

Its `summary.json` records `track: "zero-shot"`, the model (`method`, `variant`) the weights
belong to, the checkpoint's `source` record (official file, sha256, layout, sampling
convention) and `trained_on: null` (published weights: no Talking-UB build), beside the build
it was evaluated on (`talkingub.bench.build_ref`), so the tables' one-build rule applies to
the evaluation build. A checkpoint that records a Talking-UB training build is refused here:
it is a trained method, not published weights. The tables show these rows in a block of their
own, never ranked with the methods trained on Talking-UB (`leaderboard_zero_shot`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from talkingub.errors import ConfigError

PRETRAINED_DIR = "pretrained"  # OUT/pretrained/<name>/eval
TRACK = "zero-shot"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")


@dataclasses.dataclass(frozen=True)
class Pretrained:
    """One `--pretrained NAME=FILE`: the row label and the bench-format checkpoint."""

    name: str
    checkpoint: Path


def parse_pretrained(values: Iterable[str]) -> tuple[Pretrained, ...]:
    """`NAME=FILE` strings as `Pretrained`, in order; a malformed one, a repeated name or a
    missing file is a `ConfigError` naming it."""
    found: dict[str, Pretrained] = {}
    for value in values:
        name, sep, file = value.partition("=")
        name, file = name.strip(), file.strip()
        if not sep or not name or not file:
            raise ConfigError(f"--pretrained {value!r}: expected NAME=FILE, e.g. fomm-vox=fomm.pt")
        if not _NAME.fullmatch(name):
            raise ConfigError(
                f"--pretrained {value!r}: NAME must be letters, digits, '.', '_', '+' or '-' "
                "(at most 64, starting with a letter or digit): it names the row and the "
                f"folder OUT/{PRETRAINED_DIR}/NAME"
            )
        if name in found:
            raise ConfigError(f"--pretrained: the name {name!r} is given twice")
        path = Path(file).expanduser()
        if not path.is_file():
            raise ConfigError(f"--pretrained {name}: checkpoint not found: {path}")
        found[name] = Pretrained(name, path)
    return tuple(found.values())


def pretrained_dir(out_dir: Path, name: str) -> Path:
    """`OUT/pretrained/<name>`: where the evaluation of published weights `name` goes."""
    return Path(out_dir) / PRETRAINED_DIR / name


def eval_dirs(out_dir: Path) -> list[Path]:
    """The zero-shot evaluations that exist under `OUT/pretrained/*/eval`, by name."""
    root = Path(out_dir) / PRETRAINED_DIR
    if not root.is_dir():
        return []
    dirs = (p / "eval" for p in sorted(root.iterdir()) if p.is_dir())
    return [
        d for d in dirs if (d / "summary.json").is_file() and (d / "per_video.parquet").is_file()
    ]


def summary_record(state: dict[str, Any]) -> dict[str, Any]:
    """What `summary.json` records about the weights of a zero-shot evaluation."""
    return {
        "track": TRACK,
        "model": state.get("method"),
        "variant": state.get("variant"),
        "source": state.get("source"),
    }


def refuse_trained(name: str, checkpoint: Path | None, trained_on: Any) -> None:
    """A checkpoint that records a Talking-UB training build is not published weights."""
    if trained_on is not None:
        raise ConfigError(
            f"--pretrained {name}: {checkpoint} was trained on a Talking-UB build "
            f"({trained_on.label}), so it is not published weights: evaluate it as a trained "
            "method (its run folder's final.pt) instead of in the zero-shot track"
        )


def weights_label(summary: dict[str, Any]) -> str:
    """`fomm (vox-cpk.pth.tar)`: the model and the official file a zero-shot row ran."""
    model = str(summary.get("model") or "?")
    source = summary.get("source")
    if not isinstance(source, dict):
        return f"{model} (no source recorded)"
    file = next((source[k] for k in ("file", "file_name", "filename", "name") if source.get(k)), "")
    return f"{model} ({Path(str(file)).name})" if file else model
