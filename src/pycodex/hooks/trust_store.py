"""Writing `[hooks.state."<key>"]` into config.toml, keeping everything else as the user wrote it
(through `config.edit`: comments, order, spacing and quoting survive; the file is replaced
atomically).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pycodex._records import dataclass
from pycodex.config.edit import edit_config, table_in

KEEP: Any = object()


@dataclass(frozen=True)
class StateChange:
    """What to set for one hook: a hash to trust (None removes trust), `enabled` (None removes
    the switch, i.e. enabled); `KEEP` leaves a field alone."""

    trusted_hash: Any = KEEP
    enabled: Any = KEEP


def write_states(config_file: Path, changes: Mapping[str, StateChange]) -> None:
    """Raises `config.edit.ConfigEditError` when config.toml cannot be read, parsed or written."""

    def change(document: Any) -> bool:
        state = table_in(table_in(document, "hooks", config_file), "state", config_file)
        for key, one in changes.items():
            _apply(state, key, one)
        return True

    edit_config(config_file, change)


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
