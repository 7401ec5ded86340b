"""Typed, versioned manifests (pyarrow schemas) and the source-manifest reader."""

from talkingub.manifest.reader import read_source_manifest, validate_rows
from talkingub.manifest.schema import SOURCE_SCHEMA, SOURCE_SCHEMA_VERSION, SourceRow

__all__ = [
    "SOURCE_SCHEMA",
    "SOURCE_SCHEMA_VERSION",
    "SourceRow",
    "read_source_manifest",
    "validate_rows",
]
