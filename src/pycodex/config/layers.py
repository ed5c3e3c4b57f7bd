"""Raw settings merged layer by layer, remembering where every value came from.

Each source (config.toml, a profile, `-c` overrides, command-line flags) contributes a TOML-shaped
table. `LayeredSettings` merges them in precedence order and records, for each key path, the
`Source` that set it, so that a bad value is reported against the file and key the user wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pycodex._records import dataclass
from pycodex.config.errors import ConfigError

KeyPath = tuple[str, ...]


@dataclass(frozen=True)
class Source:
    """Where a layer of raw settings came from.

    `prefix` is the key path of the layer inside its file: a `[profiles.fast]` table is merged at
    the root, but its keys are reported as `profiles.fast.<key>`.
    """

    file: Path | None = None
    origin: str | None = None
    prefix: KeyPath = ()

    def dotted(self, path: KeyPath) -> str:
        return ".".join(self.prefix + path)

    def where(self) -> str:
        return str(self.file) if self.file is not None else (self.origin or "")

    def error(self, path: KeyPath, message: str) -> ConfigError:
        return ConfigError(message, file=self.file, key=self.dotted(path), origin=self.origin)

    def unknown_key_warning(self, path: KeyPath) -> str:
        return f"{self.where()}: unknown key '{self.dotted(path)}' ignored"

    @property
    def base_dir(self) -> Path | None:
        """The directory relative paths written in this source are resolved against."""
        return self.file.parent if self.file is not None else None


DEFAULTS_SOURCE = Source(origin="defaults")


class LayeredSettings:
    """A TOML-shaped dict built from layers, with the `Source` of every key path."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self._origins: dict[KeyPath, Source] = {}

    def merge(self, table: Mapping[str, Any], source: Source) -> None:
        """Deep-merge a whole file's table: sub-tables merge, any other value replaces."""
        self._merge_into(self.data, (), table, source)

    def replace(self, path: KeyPath, value: Any, source: Source) -> None:
        """Set one dotted path, replacing whatever was there (the semantics of `-c key=value`)."""
        parent = self.data
        for depth, part in enumerate(path[:-1]):
            child = parent.get(part)
            if not isinstance(child, dict):
                child = {}
                parent[part] = child
                self._forget(path[: depth + 1])
                self._origins[path[: depth + 1]] = source
            parent = child
        self._forget(path)
        if isinstance(value, Mapping):
            parent[path[-1]] = {}
            self._origins[path] = source
            self._merge_into(parent[path[-1]], path, value, source)
        else:
            parent[path[-1]] = value
            self._origins[path] = source

    def get(self, path: KeyPath) -> Any:
        node: Any = self.data
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def source_of(self, path: KeyPath) -> Source:
        """The source that set `path`; for a table, the first layer that defined it."""
        if path in self._origins:
            return self._origins[path]
        for depth in range(len(path) - 1, 0, -1):
            if path[:depth] in self._origins:
                return self._origins[path[:depth]]
        return DEFAULTS_SOURCE

    def _merge_into(
        self, target: dict[str, Any], at: KeyPath, table: Mapping[str, Any], source: Source
    ) -> None:
        for key, value in table.items():
            path = (*at, key)
            existing = target.get(key)
            if isinstance(value, Mapping) and isinstance(existing, dict):
                self._merge_into(existing, path, value, source)
                continue
            self._forget(path)
            self._origins[path] = source
            if isinstance(value, Mapping):
                target[key] = {}
                self._merge_into(target[key], path, value, source)
            else:
                target[key] = value

    def _forget(self, path: KeyPath) -> None:
        stale = [known for known in self._origins if known[: len(path)] == path]
        for known in stale:
            del self._origins[known]
