"""The hook events: their names in config, in trust keys and run ids, and their defaults."""

from __future__ import annotations

from typing import Literal, get_args

HookEventName = Literal[
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "PreCompact",
    "PostCompact",
    "SessionStart",
    "UserPromptSubmit",
    "Stop",
    "SubagentStart",
    "SubagentStop",
    "SessionEnd",
]

# The order upstream walks a config's events in (the order of the names above); it decides each
# handler's display order, which is part of a Stop hook's run id.
EVENT_ORDER: tuple[HookEventName, ...] = get_args(HookEventName)

# The snake_case label of trust keys (`<file>:<label>:<group>:<handler>`) and of the hash.
SNAKE_NAMES: dict[HookEventName, str] = {
    "PreToolUse": "pre_tool_use",
    "PermissionRequest": "permission_request",
    "PostToolUse": "post_tool_use",
    "PreCompact": "pre_compact",
    "PostCompact": "post_compact",
    "SessionStart": "session_start",
    "UserPromptSubmit": "user_prompt_submit",
    "Stop": "stop",
    "SubagentStart": "subagent_start",
    "SubagentStop": "subagent_stop",
    "SessionEnd": "session_end",
}

# Only these events look at a group's `matcher` (and only for them is it part of the hash).
MATCHER_EVENTS: frozenset[HookEventName] = frozenset(
    {"PreToolUse", "PostToolUse", "PermissionRequest", "SessionStart"}
)

DEFAULT_TIMEOUT_S = 600
# SessionEnd runs while the process is exiting: a short default, and never long.
SESSION_END_DEFAULT_TIMEOUT_S = 1
SESSION_END_MAX_TIMEOUT_S = 3


def effective_timeout(event: HookEventName, configured: int | None) -> int:
    """The seconds a handler may run, as upstream clamps them (at least 1)."""
    if event == "SessionEnd":
        chosen = SESSION_END_DEFAULT_TIMEOUT_S if configured is None else configured
        return min(max(chosen, 1), SESSION_END_MAX_TIMEOUT_S)
    return max(DEFAULT_TIMEOUT_S if configured is None else configured, 1)


def run_label(event: HookEventName) -> str:
    """`PreToolUse` -> `pre-tool-use`: the first part of a handler's run id."""
    return SNAKE_NAMES[event].replace("_", "-")
