"""What the command line contributes: typed flags and generic `-c key=value` overrides.

`-c` values are TOML values (`"x"`, `1`, `true`, `["a", "b"]`, `{a = 1}`); text that is not valid
TOML is taken as a plain string, so `-c model=o3` and `-c model='"o3"'` mean the same. Keys may be
dotted (`sandbox_workspace_write.network_access=true`) and use TOML key quoting
(`model_providers."my.gw".base_url=...`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pycodex._records import dataclass, field
from pycodex.config.errors import ConfigError
from pycodex.protocol.policies import AskForApproval, SandboxMode

CLI_OVERRIDE_ORIGIN = "-c/--config"


@dataclass(frozen=True)
class ConfigOverrides:
    """Settings given on the command line; they beat every file and every `-c` override.

    None means "not given". `cli_overrides` holds `-c` pairs in the order given (later wins).
    """

    model: str | None = None
    model_provider: str | None = None
    profile: str | None = None
    cwd: Path | None = None
    approval_policy: AskForApproval | None = None
    sandbox_mode: SandboxMode | None = None
    additional_writable_roots: tuple[Path, ...] = ()
    ephemeral: bool = False
    base_instructions: str | None = None
    developer_instructions: str | None = None
    output_schema: dict[str, Any] | None = None
    show_raw_agent_reasoning: bool | None = None
    bypass_hook_trust: bool = False
    cli_overrides: list[tuple[str, Any]] = field(default_factory=list)


def parse_cli_override(raw: str) -> tuple[str, Any]:
    """Split `key=value` and parse the value as TOML (falling back to the raw text)."""
    key, sep, value = raw.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"{CLI_OVERRIDE_ORIGIN} expects key=value, got {raw!r}")
    split_key(key)  # reject malformed keys now, where the raw text is at hand
    return key, parse_toml_value(value.strip())


def parse_toml_value(text: str) -> Any:
    """The TOML value `text` denotes, or `text` itself when it is not one TOML value."""
    try:
        parsed = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return text
    # A newline in the text could smuggle in extra keys; then it is not a single value.
    if list(parsed) != ["value"]:
        return text
    return parsed["value"]


def split_key(key: str) -> tuple[str, ...]:
    """The parts of a dotted TOML key: `a.b` -> ("a", "b"), `a."b.c"` -> ("a", "b.c")."""
    try:
        parsed: Any = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        raise ConfigError(f"{CLI_OVERRIDE_ORIGIN}: invalid key {key!r}") from None
    parts: list[str] = []
    while isinstance(parsed, dict) and len(parsed) == 1:
        (part, parsed), *_ = parsed.items()
        parts.append(part)
    if parsed != 0 or not parts:
        raise ConfigError(f"{CLI_OVERRIDE_ORIGIN}: invalid key {key!r}")
    return tuple(parts)
