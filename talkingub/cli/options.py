"""Option helpers shared by commands: collect Click values into config overrides."""

from __future__ import annotations

from typing import Any


def given(**values: Any) -> dict[str, Any]:
    """Keep only the options the user actually gave (None means 'not given')."""
    return {k: v for k, v in values.items() if v is not None}
