"""`[agents]`: limits for sub-agents and the roles a spawn may ask for (`agent_type`).

```toml
[agents]
max_threads = 6        # open sub-agents at once in one tree (closed ones do not count)
max_depth = 1          # how deep children may spawn their own children

[agents.reviewer]
description = "Reads a diff and reports problems."
model = "gpt-5.5"
model_reasoning_effort = "high"
developer_instructions = "You review code. Report problems, change nothing."
config_file = "roles/reviewer.toml"   # the same keys, read from a file (relative: $CODEX_HOME)
nickname_candidates = ["Ada", "Grace"]
```
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pycodex._records import dataclass, field
from pycodex.config.coerce import Reader

DEFAULT_MAX_THREADS = 6
DEFAULT_MAX_DEPTH = 1
_LIMIT_KEYS = ("max_threads", "max_depth", "job_max_runtime_seconds", "interrupt_message")


@dataclass(frozen=True)
class AgentRole:
    """One `[agents.<name>]` table: what a child spawned with `agent_type = name` runs with."""

    name: str
    description: str = ""
    model: str | None = None
    model_reasoning_effort: str | None = None
    developer_instructions: str | None = None
    nickname_candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgentsConfig:
    max_threads: int = DEFAULT_MAX_THREADS
    max_depth: int = DEFAULT_MAX_DEPTH
    roles: dict[str, AgentRole] = field(default_factory=dict)


def read_agents(reader: Reader, codex_home: Path) -> AgentsConfig:
    at = ("agents",)
    table = reader.table(at) or {}
    max_threads = reader.integer((*at, "max_threads"))
    max_depth = reader.integer((*at, "max_depth"))
    for key, value in ((("max_threads",), max_threads), (("max_depth",), max_depth)):
        if value is not None and value < 0:
            raise reader.error((*at, *key), "expected a number of at least 0")
    roles = {
        name: _role(reader, name, codex_home)
        for name, value in table.items()
        if name not in _LIMIT_KEYS and isinstance(value, dict)
    }
    return AgentsConfig(
        max_threads=DEFAULT_MAX_THREADS if max_threads is None else max_threads,
        max_depth=DEFAULT_MAX_DEPTH if max_depth is None else max_depth,
        roles=roles,
    )


def _role(reader: Reader, name: str, codex_home: Path) -> AgentRole:
    at = ("agents", name)
    values: dict[str, Any] = {}
    config_file = reader.path((*at, "config_file"), codex_home)
    if config_file is not None:
        values.update(_role_file(reader, at, config_file))
    for key in ("description", "model", "model_reasoning_effort", "developer_instructions"):
        text = reader.string((*at, key))
        if text is not None:
            values[key] = text
    nicknames = reader.string_list((*at, "nickname_candidates"))
    if nicknames is not None:
        values["nickname_candidates"] = nicknames
    return AgentRole(name=name, **values)


def _role_file(reader: Reader, at: tuple[str, ...], path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise reader.error((*at, "config_file"), f"cannot read {path}: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise reader.error((*at, "config_file"), f"{path} is not valid TOML: {err}") from None
    values: dict[str, Any] = {}
    for key in ("description", "model", "model_reasoning_effort", "developer_instructions"):
        if isinstance(data.get(key), str):
            values[key] = data[key]
    nicknames = data.get("nickname_candidates")
    if isinstance(nicknames, list) and all(isinstance(n, str) for n in nicknames):
        values["nickname_candidates"] = tuple(nicknames)
    return values
