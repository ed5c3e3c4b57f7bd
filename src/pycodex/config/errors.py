"""The one error type of the config package.

A `ConfigError` means the configuration cannot be used as written: broken TOML, a wrong type or
value for a key we know, an unknown provider or profile, a `-c` override that does not parse, a
missing API key. `str(error)` is a single line naming where the problem is, so the CLI can print
it after `ERROR:` and exit 2 without a traceback. Unknown keys are never errors: they become
`Config.warnings`.
"""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A configuration problem, located by file (or origin label) and dotted key.

    `origin` names a place that is not a file, such as `-c/--config` or `command line`; it is only
    shown when `file` is None.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Path | None = None,
        key: str | None = None,
        origin: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.key = key
        self.origin = origin

    def __str__(self) -> str:
        parts = ["config error:"]
        where = str(self.file) if self.file is not None else self.origin
        if where:
            parts.append(f"{where}:")
        if self.key:
            parts.append(f"{self.key}:")
        parts.append(self.message)
        # Messages built from user text could carry newlines; keep the promise of one line.
        return " ".join(parts).replace("\n", " ")
