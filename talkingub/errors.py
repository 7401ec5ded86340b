"""Typed exceptions. Library code raises these; the CLI turns them into one-line messages."""

from __future__ import annotations


class TalkingubError(Exception):
    """Base class of every error the toolkit raises on purpose."""

    exit_code = 1


class ConfigError(TalkingubError):
    """A recipe, protocol or option is invalid (unknown key, wrong type, bad value)."""

    exit_code = 2


class PluginError(ConfigError):
    """A plugin module named in a recipe cannot be imported; names the module."""

    def __init__(self, module: str, cause: str) -> None:
        self.module = module
        super().__init__(f"plugin module {module!r} could not be imported: {cause}")


class SplitLeakError(TalkingubError):
    """A bug guard: the train/test split puts one identity, source or duplicate group in both."""


class ManifestError(TalkingubError):
    """A source manifest is malformed; names the row and column at fault."""

    exit_code = 2

    def __init__(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.row = row
        self.column = column
        where = []
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        prefix = f"manifest {', '.join(where)}: " if where else "manifest: "
        super().__init__(prefix + message)


class DependencyError(TalkingubError):
    """An optional dependency or external tool is missing; the message names the fix."""

    exit_code = 3


class WeightsMissingError(TalkingubError):
    """Model weights are not in the local cache; the message names `talkingub weights fetch`."""

    exit_code = 3


class ReasonedError(TalkingubError):
    """A per-row failure that carries a reason code (see talkingub.fetch.reasons.REASONS)."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")
