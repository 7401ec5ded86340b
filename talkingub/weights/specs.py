"""The weights entry type and the table of registered entries (no lookup, no I/O).

Entries are registered by `catalogue.py` (the metric backends' files) and by the modules that
need other files (model losses); `registry.py` looks them up and checks the local copies.
"""

from __future__ import annotations

import dataclasses

from talkingub.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class WeightsSpec:
    name: str  # registry key, e.g. "vgg19"
    filename: str  # file name inside the cache folder
    url: str  # where `talkingub weights fetch` downloads it from
    # Expected content hash, lower-case hex: the full sha256, or a prefix of at least 8 hex
    # digits where the publisher only states a prefix (torchvision/torch.hub file names).
    # Empty ("unpinned") where no hash is published: `fetch` then records the digest it saw
    # in `<filename>.sha256` beside the file and later checks compare against that record.
    sha256: str
    description: str = ""
    used_by: tuple[str, ...] = ()  # metrics / models / losses that need it
    license: str = ""
    # When `url` is a zip archive: the member (matched by its base name) saved as `filename`.
    archive_member: str = ""

    @property
    def pinned(self) -> bool:
        return bool(self.sha256)


WEIGHTS: dict[str, WeightsSpec] = {}


def register_weights(spec: WeightsSpec) -> WeightsSpec:
    existing = WEIGHTS.get(spec.name)
    if existing is not None and existing != spec:
        raise ConfigError(f"weights {spec.name!r} registered twice with different specs")
    WEIGHTS[spec.name] = spec
    return spec
