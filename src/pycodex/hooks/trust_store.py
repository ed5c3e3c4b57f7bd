"""Writing `[hooks.state."<key>"]` into config.toml, keeping everything else as the user wrote it.

Comments, order, spacing and quoting survive: the file is edited through `tomlkit` (a
round-tripping TOML library, imported only here, by `pycodex hooks`) and replaced atomically.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pycodex._records import dataclass

KEEP: Any = object()


@dataclass(frozen=True)
class StateChange:
    """What to set for one hook: a hash to trust (None removes trust), `enabled` (None removes
    the switch, i.e. enabled); `KEEP` leaves a field alone."""

    trusted_hash: Any = KEEP
    enabled: Any = KEEP


class TrustStoreError(Exception):
    """config.toml could not be read, parsed or written (one line)."""


def write_states(config_file: Path, changes: Mapping[str, StateChange]) -> None:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        text = config_file.read_text(encoding="utf-8") if config_file.exists() else ""
        document = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError) as err:
        raise TrustStoreError(f"cannot read {config_file}: {err}") from None
    except TOMLKitError as err:
        raise TrustStoreError(f"cannot parse {config_file}: {err}") from None
    state = _state_table(document)
    for key, change in changes.items():
        _apply(state, key, change)
    _replace(config_file, tomlkit.dumps(document))


def _state_table(document: Any) -> Any:
    import tomlkit

    hooks = document.get("hooks")
    if hooks is None:
        hooks = tomlkit.table(is_super_table=True)
        document["hooks"] = hooks
    state = hooks.get("state")
    if state is None:
        state = tomlkit.table(is_super_table=True)
        hooks["state"] = state
    return state


def _apply(state: Any, key: str, change: StateChange) -> None:
    import tomlkit

    entry = state.get(key)
    if entry is None:
        if change.trusted_hash in (KEEP, None) and change.enabled in (KEEP, None):
            return
        entry = tomlkit.table()
        state[key] = entry
    for field, value in (("trusted_hash", change.trusted_hash), ("enabled", change.enabled)):
        if value is KEEP:
            continue
        if value is None:
            if field in entry:
                del entry[field]
        else:
            entry[field] = value
    if len(entry) == 0:
        del state[key]


def _replace(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, keeping the file's permissions (and a symlinked
    config.toml a symlink: its target is replaced)."""
    path = path.resolve() if path.is_symlink() else path
    try:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".config-", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise TrustStoreError(f"cannot write {path}: {err.strerror or err}") from None
