"""Finding the configured hooks: `[hooks]` of config.toml and `$CODEX_HOME/hooks.json`.

Both have the same shape: `{<Event>: [{matcher?, hooks: [{type, command, timeout?, async?,
statusMessage?}]}]}`; config.toml also holds `[hooks.state."<key>"]` (`trusted_hash`,
`enabled`) for the hooks of both files. Every handler becomes a `HookEntry` (what `pycodex hooks`
lists); the runnable ones are those enabled and trusted (or all enabled ones when trust is
bypassed). A file that cannot be read or has the wrong shape is skipped with one warning; a group
whose matcher is not a valid regular expression is dropped with one warning.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from pycodex._records import dataclass, field
from pycodex.hooks.events import (
    EVENT_ORDER,
    MATCHER_EVENTS,
    HookEventName,
    effective_timeout,
    run_label,
)
from pycodex.hooks.matchers import matcher_problem
from pycodex.hooks.trust import TrustStatus, hook_hash, hook_key, trust_status

HOOKS_JSON = "hooks.json"
UNSUPPORTED_TYPES = ("prompt", "agent", "mcpTool")


@dataclass(frozen=True)
class HookEntry:
    """One configured command handler, runnable or not."""

    key: str
    event: HookEventName
    # The matcher the event uses (None for events that ignore matchers, or when unset).
    matcher: str | None
    command: str
    timeout_s: int
    is_async: bool
    status_message: str | None
    source_path: Path
    display_order: int
    enabled: bool
    current_hash: str
    trust: TrustStatus
    runnable: bool

    @property
    def run_id(self) -> str:
        """Upstream's id of one run of this handler (a Stop continuation names it)."""
        return f"{run_label(self.event)}:{self.display_order}:{self.source_path}"


@dataclass
class HookDiscovery:
    entries: list[HookEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def handlers(self) -> list[HookEntry]:
        return [entry for entry in self.entries if entry.runnable]

    @property
    def untrusted(self) -> list[HookEntry]:
        return [e for e in self.entries if e.enabled and e.trust != "trusted"]


class _ShapeError(Exception):
    pass


def discover_hooks(
    codex_home: Path, hooks_table: Mapping[str, Any], *, bypass_trust: bool = False
) -> HookDiscovery:
    """Every handler of `$CODEX_HOME/hooks.json` then `[hooks]` (`hooks_table`, from the
    config whose file is `$CODEX_HOME/config.toml`)."""
    found = HookDiscovery()
    states = _states(hooks_table.get("state"), found.warnings)
    sources: list[tuple[Path, Mapping[str, Any]]] = []
    json_path = codex_home / HOOKS_JSON
    json_events = _read_hooks_json(json_path, found.warnings)
    toml_events = {key: value for key, value in hooks_table.items() if key != "state"}
    if json_events:
        sources.append((json_path, json_events))
    if toml_events:
        sources.append((codex_home / "config.toml", toml_events))
    if json_events and toml_events:
        found.warnings.append(
            f"hooks are configured in both {json_path} and {codex_home / 'config.toml'}; "
            "both are used, but keeping them in one file is clearer"
        )
    for path, events in sources:
        try:
            entries, warnings = _read_source(path, events, states, bypass_trust, len(found.entries))
        except _ShapeError as err:
            found.warnings.append(f"hooks in {path} ignored: {err}")
            continue
        found.entries += entries
        found.warnings += warnings
    return found


def _states(raw: Any, warnings: list[str]) -> dict[str, Mapping[str, Any]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        warnings.append("[hooks.state] is not a table; every hook counts as untrusted")
        return {}
    return {key: value for key, value in raw.items() if isinstance(value, Mapping)}


def _read_hooks_json(path: Path, warnings: list[str]) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as err:
        warnings.append(f"cannot read hooks file {path}: {err}")
        return {}
    try:
        data = json.loads(text)
    except ValueError as err:
        warnings.append(f"hooks file {path} is not valid JSON: {err}")
        return {}
    hooks = data.get("hooks", {}) if isinstance(data, dict) else None
    if not isinstance(hooks, dict):
        warnings.append(f'hooks file {path}: expected {{"hooks": {{...}}}}')
        return {}
    return hooks


def _read_source(
    path: Path,
    events: Mapping[str, Any],
    states: Mapping[str, Mapping[str, Any]],
    bypass_trust: bool,
    first_order: int,
) -> tuple[list[HookEntry], list[str]]:
    warnings = [
        f"hooks in {path}: unknown event {name!r} ignored"
        for name in events
        if name not in EVENT_ORDER
    ]
    entries: list[HookEntry] = []
    for event in EVENT_ORDER:
        groups = events.get(event)
        if groups is None:
            continue
        if not isinstance(groups, list):
            raise _ShapeError(f"{event} must be a list of matcher groups")
        for group_index, group in enumerate(groups):
            where = _Where(path, event, group_index, first_order + len(entries))
            entries += _read_group(where, group, states, bypass_trust, warnings)
    return entries, warnings


@dataclass(frozen=True)
class _Where:
    path: Path
    event: HookEventName
    group: int
    order: int


def _read_group(
    where: _Where,
    group: Any,
    states: Mapping[str, Mapping[str, Any]],
    bypass_trust: bool,
    warnings: list[str],
) -> list[HookEntry]:
    event = where.event
    if not isinstance(group, Mapping):
        raise _ShapeError(f"{event}[{where.group}] must be a table")
    matcher = _optional(group, "matcher", str, f"{event}[{where.group}]")
    handlers = group.get("hooks", [])
    if not isinstance(handlers, list):
        raise _ShapeError(f"{event}[{where.group}].hooks must be a list")
    used_matcher = matcher if event in MATCHER_EVENTS else None
    problem = matcher_problem(used_matcher) if used_matcher is not None else None
    if problem is not None:
        warnings.append(f"invalid matcher {used_matcher!r} in {where.path} ({event}): {problem}")
        return []
    entries: list[HookEntry] = []
    for index, raw in enumerate(handlers):
        entry = _read_handler(where, index, raw, used_matcher, warnings)
        if entry is not None:
            order = where.order + len(entries)
            entries.append(_with_state(entry, order, states, bypass_trust))
    return entries


@dataclass(frozen=True)
class _Handler:
    key: str
    event: HookEventName
    matcher: str | None
    command: str
    timeout_s: int
    is_async: bool
    status_message: str | None
    path: Path


def _read_handler(
    where: _Where, index: int, raw: Any, matcher: str | None, warnings: list[str]
) -> _Handler | None:
    at = f"{where.event}[{where.group}].hooks[{index}]"
    if not isinstance(raw, Mapping):
        raise _ShapeError(f"{at} must be a table")
    kind = raw.get("type")
    if kind in UNSUPPORTED_TYPES:
        warnings.append(f"{kind} hook skipped in {where.path} ({at}): only command hooks run")
        return None
    if kind != "command":
        raise _ShapeError(f'{at}.type must be "command", got {kind!r}')
    command = raw.get("command")
    if not isinstance(command, str):
        raise _ShapeError(f"{at}.command must be a string")
    timeout = _optional(raw, "timeout", int, at)
    if isinstance(timeout, bool) or (timeout is not None and timeout < 0):
        raise _ShapeError(f"{at}.timeout must be a number of seconds")
    is_async = _optional(raw, "async", bool, at) or False
    status = _optional(raw, "statusMessage", str, at)
    if not command.strip():
        warnings.append(f"empty hook command skipped in {where.path} ({at})")
        return None
    return _Handler(
        key=hook_key(where.path, where.event, where.group, index),
        event=where.event,
        matcher=matcher,
        command=command,
        timeout_s=effective_timeout(where.event, timeout),
        is_async=is_async,
        status_message=status,
        path=where.path,
    )


def _with_state(
    handler: _Handler, order: int, states: Mapping[str, Mapping[str, Any]], bypass_trust: bool
) -> HookEntry:
    state = states.get(handler.key, {})
    enabled = state.get("enabled") is not False
    trusted_hash = state.get("trusted_hash")
    current = hook_hash(
        handler.event,
        matcher=handler.matcher,
        command=handler.command,
        timeout_s=handler.timeout_s,
        is_async=handler.is_async,
        status_message=handler.status_message,
    )
    trust = trust_status(current, trusted_hash if isinstance(trusted_hash, str) else None)
    return HookEntry(
        key=handler.key,
        event=handler.event,
        matcher=handler.matcher,
        command=handler.command,
        timeout_s=handler.timeout_s,
        is_async=handler.is_async,
        status_message=handler.status_message,
        source_path=handler.path,
        display_order=order,
        enabled=enabled,
        current_hash=current,
        trust=trust,
        runnable=enabled and (bypass_trust or trust == "trusted"),
    )


def _optional(table: Mapping[str, Any], key: str, kind: type[Any], at: str) -> Any:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, kind):
        raise _ShapeError(f"{at}.{key} must be a {kind.__name__}")
    return cast(Any, value)
