"""Typed reads from merged raw settings, failing with the file and key of the bad value.

Every accessor returns None when the key is absent and raises `ConfigError` when the value has the
wrong type; defaults are applied by the caller, which knows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pycodex.config.errors import ConfigError
from pycodex.config.layers import KeyPath, LayeredSettings


def describe_value(value: Any) -> str:
    """Show a rejected value the way it would look in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


class Reader:
    """Validating accessors over a `LayeredSettings`."""

    def __init__(self, settings: LayeredSettings) -> None:
        self.settings = settings

    def error(self, path: KeyPath, message: str) -> ConfigError:
        return self.settings.source_of(path).error(path, message)

    def raw(self, path: KeyPath) -> Any:
        return self.settings.get(path)

    def string(self, path: KeyPath) -> str | None:
        value = self.raw(path)
        if value is None or isinstance(value, str):
            return value
        raise self._expected(path, "a string", value)

    def boolean(self, path: KeyPath) -> bool | None:
        value = self.raw(path)
        if value is None or isinstance(value, bool):
            return value
        raise self._expected(path, "a boolean (true or false)", value)

    def integer(self, path: KeyPath) -> int | None:
        """A non-negative integer: every count and size in the config is one."""
        value = self.raw(path)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._expected(path, "a non-negative integer", value)
        return value

    def choice(self, path: KeyPath, allowed: Sequence[str]) -> str | None:
        value = self.raw(path)
        if value is None or (isinstance(value, str) and value in allowed):
            return value
        raise self._expected(path, "one of " + ", ".join(allowed), value)

    def table(self, path: KeyPath) -> dict[str, Any] | None:
        value = self.raw(path)
        if value is None or isinstance(value, dict):
            return value
        raise self._expected(path, "a table", value)

    def string_list(self, path: KeyPath) -> tuple[str, ...] | None:
        value = self.raw(path)
        if value is None:
            return None
        if not isinstance(value, list):
            raise self._expected(path, "an array of strings", value)
        for item in value:
            if not isinstance(item, str):
                message = (
                    f"expected an array of strings, got an array holding {describe_value(item)}"
                )
                raise self.error(path, message)
        return tuple(value)

    def string_map(self, path: KeyPath) -> dict[str, str] | None:
        value = self.table(path)
        if value is None:
            return None
        for key, item in value.items():
            if not isinstance(item, str):
                raise self._expected((*path, key), "a string", item)
        return dict(value)

    def bool_map(self, path: KeyPath) -> dict[str, bool] | None:
        value = self.table(path)
        if value is None:
            return None
        for key, item in value.items():
            if not isinstance(item, bool):
                raise self._expected((*path, key), "a boolean (true or false)", item)
        return dict(value)

    def path(self, path: KeyPath, fallback_base: Path) -> Path | None:
        """A file system path; relative ones are resolved against the directory of the file that
        set them, or `fallback_base` for values from `-c` and flags."""
        value = self.string(path)
        if value is None:
            return None
        return self._absolute(path, value, fallback_base)

    def path_list(self, path: KeyPath, fallback_base: Path) -> tuple[Path, ...] | None:
        values = self.string_list(path)
        if values is None:
            return None
        return tuple(self._absolute(path, value, fallback_base) for value in values)

    def _absolute(self, path: KeyPath, value: str, fallback_base: Path) -> Path:
        if not value:
            raise self.error(path, "expected a path, got an empty string")
        candidate = Path(value).expanduser()
        if candidate.is_absolute():
            return candidate
        base = self.settings.source_of(path).base_dir or fallback_base
        return base / candidate

    def _expected(self, path: KeyPath, what: str, value: Any) -> ConfigError:
        return self.error(path, f"expected {what}, got {describe_value(value)}")
