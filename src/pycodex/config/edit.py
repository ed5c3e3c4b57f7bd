"""Editing config.toml in place, for the commands that write it (`pycodex mcp add|remove`,
`pycodex hooks trust|...`): the user's comments, key order, spacing and quoting survive.

`edit_config(path, change)` parses the file with tomlkit (a round-tripping TOML library,
imported only here, so no other command pays for it), hands the document to `change`, and, when
`change` returns something true, writes the file back atomically: a temporary file beside it,
the old file's permissions, then a rename (a symlinked config.toml has its target replaced).
Every failure is a `ConfigEditError` with one line naming the file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigEditError(Exception):
    """config.toml could not be read, parsed or written (one line)."""


def edit_config(path: Path, change: Callable[[Any], T]) -> T:
    """Apply `change` to the parsed document of `path` (created when missing) and return what
    it returned; the file is written only when that is true."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        document = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigEditError(f"cannot read {path}: {err}") from None
    except TOMLKitError as err:
        raise ConfigEditError(f"cannot parse {path}: {err}") from None
    outcome = change(document)
    if outcome:
        _replace(path, tomlkit.dumps(document))
    return outcome


def table_in(parent: Any, key: str, where: Path) -> Any:
    """The table `parent[key]`, created as a super table (`[key.x]` headers only) if missing."""
    import tomlkit

    table = parent.get(key)
    if table is None:
        table = tomlkit.table(is_super_table=True)
        parent[key] = table
    elif not isinstance(table, dict):
        raise ConfigEditError(f"{where}: {key} is not a table")
    return table


def _replace(path: Path, text: str) -> None:
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
        raise ConfigEditError(f"cannot write {path}: {err.strerror or err}") from None
