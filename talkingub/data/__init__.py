"""Loading a `talkingub build` output from Python.

- `load_build(path)`: the Parquet tables (pandas) and `build.json` (`BuildTables`).
- `TalkingUBClips(path, split, frames, size, transform)`: a PyTorch dataset of the kept clips,
  frames decoded with PyAV, face boxes aligned to them.
- `TalkingUBPairs(path, image_size, face_size, seed, length, augment)`: source/driving
  training pairs, as `talkingub bench` trains on them.
- `mp4_decoder`: a WebDataset decoder handler for a shard sample's mp4 member
  (`wds.WebDataset(urls).decode(mp4_decoder)`).

`load_build` and `mp4_decoder` need only the core dependencies; the two datasets need the
`bench` extra (torch), imported when one of them is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from talkingub.data.decode import decode_mp4, mp4_decoder
from talkingub.data.tables import BuildTables, load_build
from talkingub.errors import DependencyError

if TYPE_CHECKING:
    from talkingub.data.clips import TalkingUBClips
    from talkingub.data.pairs import TalkingUBPairs

__all__ = [
    "BuildTables",
    "TalkingUBClips",
    "TalkingUBPairs",
    "decode_mp4",
    "load_build",
    "mp4_decoder",
]

_TORCH_EXPORTS = {
    "TalkingUBClips": "talkingub.data.clips",
    "TalkingUBPairs": "talkingub.data.pairs",
}


def __getattr__(name: str) -> Any:
    """The datasets, imported on first use (they need torch, the `bench` extra)."""
    module = _TORCH_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'talkingub.data' has no attribute {name!r}")
    import importlib

    try:
        import torch  # noqa: F401
    except ImportError:
        raise DependencyError(
            f"talkingub.data.{name} needs torch: pip install 'talkingub[bench]'"
        ) from None
    return getattr(importlib.import_module(module), name)
