"""A small generic registry with availability detection (timm-style for models, and the
same shape for decoders, detectors, metric backends, executors and shard writers)."""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable
from typing import Generic, TypeVar

from talkingub.errors import ConfigError, DependencyError

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    factory: T
    # Returns None when usable, else a one-line reason with the command that fixes it.
    check: Callable[[], str | None] | None = None
    description: str = ""

    def unavailable_reason(self) -> str | None:
        return self.check() if self.check else None


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(
        self,
        name: str,
        check: Callable[[], str | None] | None = None,
        description: str = "",
    ) -> Callable[[T], T]:
        def decorator(factory: T) -> T:
            self.add(name, factory, check, description)
            return factory

        return decorator

    def add(
        self,
        name: str,
        factory: T,
        check: Callable[[], str | None] | None = None,
        description: str = "",
    ) -> None:
        if name in self._entries and self._entries[name].factory is not factory:
            raise ConfigError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = Entry(name, factory, check, description)

    def names(self, pattern: str = "*") -> list[str]:
        return sorted(n for n in self._entries if fnmatch.fnmatch(n, pattern))

    def entry(self, name: str) -> Entry[T]:
        if name not in self._entries:
            known = ", ".join(self.names()) or "none"
            raise ConfigError(f"unknown {self.kind} {name!r} (known: {known})")
        return self._entries[name]

    def get(self, name: str) -> T:
        """The factory, after checking it can run here (raises DependencyError otherwise)."""
        entry = self.entry(name)
        reason = entry.unavailable_reason()
        if reason:
            raise DependencyError(f"{self.kind} {name!r} is not available: {reason}")
        return entry.factory

    def available(self) -> dict[str, str | None]:
        """name -> None when usable, else why not."""
        return {n: self._entries[n].unavailable_reason() for n in self.names()}

    def __contains__(self, name: object) -> bool:
        return name in self._entries
