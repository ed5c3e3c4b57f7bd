"""`resolve_config`: the one place that decides which setting wins.

Precedence, lowest first:

1. built-in defaults (the field defaults of `Config`);
2. `$CODEX_HOME/config.toml`;
3. the selected profile: the `[profiles.<name>]` table of config.toml, then the file
   `$CODEX_HOME/<name>.config.toml` on top of it (so when both exist they merge and the file wins
   key by key; newer Codex versions only know the file, older ones only the table);
4. `-c key=value` overrides, each replacing the value at its dotted path;
5. typed command-line flags (`ConfigOverrides` fields).

The profile is chosen by `--profile`, else by a `-c profile=...` override, else by the `profile`
key of config.toml. `$CODEX_HOME/.env` is read first; variables already in the environment win.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pycodex.config.coerce import Reader
from pycodex.config.errors import ConfigError
from pycodex.config.files import (
    CONFIG_FILE_NAME,
    DOTENV_FILE_NAME,
    find_codex_home,
    load_dotenv,
    read_toml_file,
)
from pycodex.config.layers import KeyPath, LayeredSettings, Source
from pycodex.config.model import Config
from pycodex.config.overrides import CLI_OVERRIDE_ORIGIN, ConfigOverrides, split_key
from pycodex.config.schema import (
    check_enum_values,
    unknown_key_warnings,
    unsupported_key_warnings,
)
from pycodex.config.settings import ResolveContext, build_config

FLAGS_ORIGIN = "command line"
PROFILE_FILE_SUFFIX = ".config.toml"


def resolve_config(
    overrides: ConfigOverrides, *, env: Mapping[str, str], codex_home: Path | None = None
) -> Config:
    """Read every configuration source and resolve it into one frozen `Config`.

    Raises `ConfigError` (one line, naming file and key) when the configuration cannot be used.
    """
    home = Path(os.path.abspath(codex_home)) if codex_home is not None else find_codex_home(env)
    invocation_dir = Path.cwd()
    cwd = _resolve_cwd(overrides.cwd, invocation_dir)
    settings = LayeredSettings()
    seen: set[KeyPath] = set()  # unsupported keys already warned about: once per key
    warnings = _merge_config_file(settings, home / CONFIG_FILE_NAME, seen)
    cli_pairs = [(split_key(key), value) for key, value in overrides.cli_overrides]
    profile = _selected_profile(Reader(settings), overrides, cli_pairs)
    if profile is not None:
        from_flag = overrides.profile is not None
        warnings += _merge_profile(settings, home, profile, seen, from_flag=from_flag)
    warnings += _apply_cli_overrides(settings, cli_pairs, seen)
    _apply_flags(settings, overrides)
    context = ResolveContext(
        codex_home=home,
        cwd=cwd,
        invocation_dir=invocation_dir,
        env={**load_dotenv(home / DOTENV_FILE_NAME), **env},
        overrides=overrides,
        profile=profile,
        warnings=tuple(warnings),
    )
    return build_config(Reader(settings), context)


def _merge_config_file(
    settings: LayeredSettings, config_file: Path, seen: set[KeyPath]
) -> list[str]:
    table = read_toml_file(config_file) or {}
    source = Source(file=config_file)
    check_enum_values(table, source)
    settings.merge(table, source)
    warnings = unknown_key_warnings(table, source, profile=False)
    return warnings + unsupported_key_warnings(table, source, seen)


def _resolve_cwd(requested: Path | None, invocation_dir: Path) -> Path:
    if requested is None:
        return invocation_dir
    # normpath, not resolve(): keep the user's spelling of symlinked directories in messages.
    cwd = Path(os.path.normpath(invocation_dir / requested.expanduser()))
    if not cwd.is_dir():
        raise ConfigError(f"{cwd} is not a directory", key="cwd", origin=FLAGS_ORIGIN)
    return cwd


def _selected_profile(
    reader: Reader, overrides: ConfigOverrides, cli_pairs: list[tuple[KeyPath, Any]]
) -> str | None:
    if overrides.profile is not None:
        return overrides.profile
    chosen: Any = None
    for path, value in cli_pairs:
        if path == ("profile",):
            chosen = value
    if chosen is not None:
        if not isinstance(chosen, str):
            message = f"expected a string, got {chosen!r}"
            raise ConfigError(message, key="profile", origin=CLI_OVERRIDE_ORIGIN)
        return chosen
    return reader.string(("profile",))


def _merge_profile(
    settings: LayeredSettings, home: Path, name: str, seen: set[KeyPath], *, from_flag: bool
) -> list[str]:
    """Merge the profile's table and file over config.toml; return their unknown-key warnings."""
    reader = Reader(settings)
    where = Source(origin=FLAGS_ORIGIN) if from_flag else settings.source_of(("profile",))
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        raise where.error(("profile",), f"invalid profile name {name!r}")
    reader.table(("profiles",))
    table = reader.table(("profiles", name))
    profile_file = home / f"{name}{PROFILE_FILE_SUFFIX}"
    file_table = read_toml_file(profile_file)
    if table is None and file_table is None:
        message = (
            f"unknown profile {name!r}: no [profiles.{name}] table in "
            f"{home / CONFIG_FILE_NAME} and no file {profile_file}"
        )
        raise where.error(("profile",), message)
    warnings: list[str] = []
    # Copy before merging: the table is part of the settings being merged into.
    layers = [
        (dict(table or {}), Source(file=home / CONFIG_FILE_NAME, prefix=("profiles", name))),
        (file_table or {}, Source(file=profile_file)),
    ]
    for layer, source in layers:
        warnings += unknown_key_warnings(layer, source, profile=True)
        warnings += unsupported_key_warnings(layer, source, seen)
        check_enum_values(layer, source)
        settings.merge({k: v for k, v in layer.items() if k not in ("profile", "profiles")}, source)
    return warnings


def _apply_cli_overrides(
    settings: LayeredSettings, cli_pairs: list[tuple[KeyPath, Any]], seen: set[KeyPath]
) -> list[str]:
    source = Source(origin=CLI_OVERRIDE_ORIGIN)
    warnings: list[str] = []
    for path, value in cli_pairs:
        nested = _nest(path, value)
        warnings += unknown_key_warnings(nested, source, profile=False)
        warnings += unsupported_key_warnings(nested, source, seen)
        check_enum_values(nested, source)
        settings.replace(path, value, source)
    return warnings


def _apply_flags(settings: LayeredSettings, overrides: ConfigOverrides) -> None:
    source = Source(origin=FLAGS_ORIGIN)
    flags: dict[str, Any] = {
        "model": overrides.model,
        "model_provider": overrides.model_provider,
        "approval_policy": overrides.approval_policy,
        "sandbox_mode": overrides.sandbox_mode,
        "developer_instructions": overrides.developer_instructions,
        "show_raw_agent_reasoning": overrides.show_raw_agent_reasoning,
    }
    for key, value in flags.items():
        if value is not None:
            # StrEnum flags become plain strings so they validate like any other value.
            settings.replace((key,), str(value) if isinstance(value, str) else value, source)


def _nest(path: KeyPath, value: Any) -> dict[str, Any]:
    nested: Any = value
    for part in reversed(path):
        nested = {part: nested}
    result: dict[str, Any] = nested
    return result
