"""What the handlers of one event said, folded into one `HookOutcome`.

Per handler (upstream's rules): exit 0 with empty stdout says nothing; exit 0 with a JSON object
is read per event (unknown keys are ignored, a wrong type makes the output invalid); exit 0 with
other text is context for UserPromptSubmit and SessionStart and ignored elsewhere, unless it
starts like JSON (`{`, `[`), which makes it invalid. Exit 2 blocks for the events that can
block, with stderr as the reason. Any other exit, an invalid output, a timeout or a command that
cannot start is a failure: it is reported and otherwise ignored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from pycodex._records import dataclass, field
from pycodex.hooks.events import HookEventName
from pycodex.hooks.runner import HandlerRun

BLOCKING_EVENTS: frozenset[HookEventName] = frozenset(
    {"PreToolUse", "PostToolUse", "UserPromptSubmit", "Stop", "SubagentStop"}
)
PLAIN_TEXT_CONTEXT: frozenset[HookEventName] = frozenset({"UserPromptSubmit", "SessionStart"})
CONTEXT_EVENTS: frozenset[HookEventName] = frozenset(
    {"SessionStart", "SubagentStart", "UserPromptSubmit", "PreToolUse", "PostToolUse"}
)


@dataclass
class Continuation:
    """A Stop hook's reason to go on, and the run id that names it to the model."""

    run_id: str
    reason: str


@dataclass
class HookOutcome:
    # One line per problem or message for the user (never sent to the model).
    reports: list[str] = field(default_factory=list)
    # `additionalContext` (or plain stdout): developer messages for the model, in order.
    contexts: list[str] = field(default_factory=list)
    # Set when a handler blocked: the tool call, the tool's output, the prompt, the stop.
    block_reason: str | None = None
    # PreToolUse `updatedInput` of the handler that finished last.
    updated_input: Any = None
    continuations: list[Continuation] = field(default_factory=list)
    # `continue: false`: the turn (or the stop) is to end here.
    stop: bool = False
    # PermissionRequest: "allow", or "deny" with `deny_message`.
    permission: Literal["allow", "deny"] | None = None
    deny_message: str = ""

    @property
    def blocked(self) -> bool:
        return self.block_reason is not None


class _Invalid(Exception):
    pass


def interpret(event: HookEventName, runs: Sequence[HandlerRun]) -> HookOutcome:
    outcome = HookOutcome()
    rewrites: list[tuple[int, Any]] = []
    reasons: list[str] = []
    for run in runs:
        name = f"{event} hook `{_short(run.handler.command)}`"
        if run.error is not None:
            outcome.reports.append(f"{name} failed: {run.error}")
        elif run.exit_code == 0:
            try:
                _read_stdout(event, run, outcome, reasons, rewrites)
            except _Invalid as err:
                outcome.reports.append(f"{name} gave invalid output: {err}")
        elif run.exit_code == 2 and event in BLOCKING_EVENTS:
            reason = run.stderr.strip()
            if reason:
                _block(event, run, reason, outcome, reasons)
            else:
                outcome.reports.append(f"{name} exited with code 2 but wrote no reason on stderr")
        else:
            outcome.reports.append(f"{name} failed: exited with code {run.exit_code}")
    if reasons:
        outcome.block_reason = reasons[0] if event == "PreToolUse" else "\n\n".join(reasons)
    elif rewrites:
        outcome.updated_input = max(rewrites, key=lambda pair: pair[0])[1]
    return outcome


def _short(command: str) -> str:
    line = command.strip().splitlines()[0] if command.strip() else command
    return line if len(line) <= 60 else line[:57] + "..."


def _block(
    event: HookEventName, run: HandlerRun, reason: str, outcome: HookOutcome, reasons: list[str]
) -> None:
    reasons.append(reason)
    if event in ("Stop", "SubagentStop"):
        outcome.continuations.append(Continuation(run.handler.run_id, reason))


def _read_stdout(
    event: HookEventName,
    run: HandlerRun,
    outcome: HookOutcome,
    reasons: list[str],
    rewrites: list[tuple[int, Any]],
) -> None:
    text = run.stdout.strip()
    if not text:
        return
    if not text.startswith(("{", "[")):
        if event in PLAIN_TEXT_CONTEXT:
            outcome.contexts.append(text)
        return
    try:
        data = json.loads(text)
    except ValueError:
        raise _Invalid("not valid JSON") from None
    if not isinstance(data, dict):
        raise _Invalid("expected a JSON object")
    _read_json(event, run, data, outcome, reasons, rewrites)


def _read_json(
    event: HookEventName,
    run: HandlerRun,
    data: dict[str, Any],
    outcome: HookOutcome,
    reasons: list[str],
    rewrites: list[tuple[int, Any]],
) -> None:
    message = _string(data, "systemMessage")
    if message:
        outcome.reports.append(f"{event} hook: {message}")
    specific = data.get("hookSpecificOutput")
    if specific is not None and not isinstance(specific, dict):
        raise _Invalid("hookSpecificOutput must be an object")
    specific = specific or {}
    context = _string(specific, "additionalContext")
    if context and event in CONTEXT_EVENTS:
        outcome.contexts.append(context)
    continuing = data.get("continue", True)
    if not isinstance(continuing, bool):
        raise _Invalid("continue must be true or false")
    if not continuing and event in ("UserPromptSubmit", "Stop", "SubagentStop"):
        outcome.stop = True
        return
    if event == "PreToolUse":
        _pre_tool_use(run, data, specific, outcome, reasons, rewrites)
    elif event == "PermissionRequest":
        _permission(specific, outcome)
    elif event in BLOCKING_EVENTS:
        decision = _string(data, "decision")
        if decision == "block":
            reason = (_string(data, "reason") or "").strip()
            if not reason:
                raise _Invalid('"decision": "block" needs a non-empty "reason"')
            _block(event, run, reason, outcome, reasons)
        elif decision is not None:
            raise _Invalid(f"unsupported decision {decision!r}")


def _pre_tool_use(
    run: HandlerRun,
    data: dict[str, Any],
    specific: dict[str, Any],
    outcome: HookOutcome,
    reasons: list[str],
    rewrites: list[tuple[int, Any]],
) -> None:
    decision = _string(specific, "permissionDecision")
    reason = (_string(specific, "permissionDecisionReason") or "").strip()
    updated = specific.get("updatedInput")
    if decision is None and updated is None and not reason:
        # The older form: {"decision": "block", "reason": "..."}.
        legacy = _string(data, "decision")
        if legacy == "block":
            legacy_reason = (_string(data, "reason") or "").strip()
            if not legacy_reason:
                raise _Invalid('"decision": "block" needs a non-empty "reason"')
            _block("PreToolUse", run, legacy_reason, outcome, reasons)
        return
    if decision == "deny":
        if not reason:
            raise _Invalid('"permissionDecision": "deny" needs a permissionDecisionReason')
        _block("PreToolUse", run, reason, outcome, reasons)
    elif decision == "allow" and updated is not None:
        rewrites.append((run.completion_order, updated))
    elif updated is not None:
        raise _Invalid('updatedInput needs "permissionDecision": "allow"')
    elif decision not in ("allow", "ask"):
        raise _Invalid(f"unsupported permissionDecision {decision!r}")
    # "allow" alone and "ask" change nothing (there is no one to ask; the call runs).


def _permission(specific: dict[str, Any], outcome: HookOutcome) -> None:
    decision = specific.get("decision")
    if decision is None:
        return
    if not isinstance(decision, dict):
        raise _Invalid("decision must be an object")
    behavior = decision.get("behavior")
    if behavior == "allow":
        outcome.permission = outcome.permission or "allow"
    elif behavior == "deny":
        outcome.permission = "deny"
        outcome.deny_message = (
            _string(decision, "message") or ""
        ).strip() or "a PermissionRequest hook denied this"
    else:
        raise _Invalid(f"unsupported decision behavior {behavior!r}")


def _string(table: dict[str, Any], key: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid(f"{key} must be a string")
    return value
