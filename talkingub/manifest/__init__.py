"""Typed, versioned manifests (pyarrow schemas), the build's output schemas, the shard sample
layout, and the source-manifest reader."""

from talkingub.manifest.reader import read_source_manifest, validate_rows
from talkingub.manifest.schema import (
    FETCH_SCHEMA,
    OUTPUT_SCHEMAS,
    SCHEMA_VERSION,
    SOURCE_SCHEMA,
    SOURCE_SCHEMA_VERSION,
    ShardSample,
    SourceRow,
)

__all__ = [
    "FETCH_SCHEMA",
    "OUTPUT_SCHEMAS",
    "SCHEMA_VERSION",
    "SOURCE_SCHEMA",
    "SOURCE_SCHEMA_VERSION",
    "ShardSample",
    "SourceRow",
    "read_source_manifest",
    "validate_rows",
]
