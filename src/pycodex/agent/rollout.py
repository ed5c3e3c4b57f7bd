"""A thread's durable record: start recording a new thread, or continue a recorded one.

The engine writes through `ThreadState.record` / `record_event`; this module decides what the
`session_meta` and `turn_context` records hold and turns a rollout file back into a thread.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pycodex._records import dataclass, field
from pycodex._version import __version__
from pycodex.agent.identity import ThreadIdentity
from pycodex.agent.state import ThreadState
from pycodex.protocol import events as ev
from pycodex.protocol.items import ItemValidationError, ResponseItem, parse_item
from pycodex.protocol.policies import SandboxMode, SandboxPolicy
from pycodex.protocol.usage import TokenUsage
from pycodex.sessions.ids import new_thread_id
from pycodex.sessions.paths import format_timestamp
from pycodex.sessions.recorder import RolloutRecorder


def session_meta(
    state: ThreadState, *, cwd: Path, originator: str, provider_id: str, source: str
) -> dict[str, Any]:
    """The first record of a rollout. A sub-agent's names its parent and says how it came to
    be (`source: {"subagent": {"thread_spawn": {...}}}`); every thread names its tree's
    `session_id` beside its own `id`."""
    identity = state.identity
    meta: dict[str, Any] = {"session_id": state.session_id, "id": state.thread_id}
    if identity.parent_thread_id is not None:
        meta["parent_thread_id"] = identity.parent_thread_id
    meta |= {
        "timestamp": format_timestamp(datetime.now(UTC)),
        "cwd": str(cwd),
        "originator": originator,
        "cli_version": __version__,
        "source": identity.session_source(source),
        "thread_source": identity.thread_source,
    }
    if identity.is_subagent:
        meta["agent_nickname"] = identity.agent_nickname
        meta["multi_agent_version"] = "v1"
    meta["model_provider"] = provider_id
    meta["base_instructions"] = {"text": state.context.base_instructions}
    return meta


def start_recording(state: ThreadState, codex_home: Path, meta: dict[str, Any]) -> None:
    """Attach a recorder; its file appears with the thread's first real item."""
    recorder = RolloutRecorder(codex_home, state.thread_id, meta)
    state.recorder = recorder
    state.rollout_path = recorder.path


def turn_context(state: ThreadState) -> dict[str, Any]:
    settings = state.client.settings
    policy = state.context.sandbox_policy
    return {
        "cwd": str(state.context.cwd),
        "approval_policy": state.context.approval_policy.value,
        "sandbox_policy": _sandbox_policy_record(policy),
        "model": settings.model,
        "effort": settings.reasoning_effort,
        "summary": settings.reasoning_summary or "auto",
    }


def _sandbox_policy_record(policy: SandboxPolicy) -> dict[str, Any]:
    """Upstream's shape: tagged by `type`, workspace-write carrying its roots and switches."""
    if policy.mode is not SandboxMode.WORKSPACE_WRITE:
        return {"type": policy.mode.value}
    return {
        "type": policy.mode.value,
        "writable_roots": [str(root) for root in policy.writable_roots],
        "network_access": policy.network_access,
        "exclude_tmpdir_env_var": policy.exclude_tmpdir_env_var,
        "exclude_slash_tmp": policy.exclude_slash_tmp,
    }


def collab_item_completed(event: ev.CollabToolCallEnd, turn_id: str) -> dict[str, Any]:
    """The `event_msg` a sub-agent tool call leaves in the caller's rollout."""
    item = {
        "type": "CollabAgentToolCall",
        "id": event.call_id,
        "tool": event.tool,
        "status": "completed" if event.success else "failed",
        "sender_thread_id": event.sender_thread_id,
        "receiver_thread_ids": list(event.receiver_thread_ids),
        "receiver_agents": [
            {"thread_id": agent, "agent_nickname": nickname}
            for agent, nickname in event.receiver_nicknames
        ],
        "prompt": event.prompt,
        "model": event.model,
        "reasoning_effort": event.reasoning_effort,
        "agents_states": {agent: status.to_wire() for agent, status in event.agents_states},
    }
    return {"type": "item_completed", "turn_id": turn_id, "item": item}


@dataclass
class RecordedThread:
    """What a rollout file says about a thread, ready to continue it."""

    path: Path
    thread_id: str
    session_id: str
    history: list[ResponseItem]
    base_instructions: str | None
    warnings: list[str] = field(default_factory=list)
    identity: ThreadIdentity = field(default_factory=ThreadIdentity)
    # The thread's usage so far (its last `token_count` total), so a resumed run reports the
    # thread's cumulative usage as upstream does.
    total_usage: TokenUsage = field(default_factory=TokenUsage)


class RolloutLoadError(Exception):
    """A rollout file that cannot be continued; the message is one line."""


def load_thread(path: Path) -> RecordedThread:
    from pycodex.sessions.reader import read_rollout  # only resume and fork read files

    try:
        recorded = read_rollout(path)
    except OSError as err:
        raise RolloutLoadError(f"cannot read session file {path}: {err.strerror}") from None
    thread_id = recorded.thread_id
    if thread_id is None:
        raise RolloutLoadError(f"{path} has no session_meta record: not a session file")
    meta = recorded.session_meta or {}
    history, warnings = _typed_history(recorded.history, path)
    # Files written before session ids existed: the thread is its own tree.
    session_id = meta.get("session_id")
    return RecordedThread(
        path=path,
        thread_id=thread_id,
        session_id=session_id if isinstance(session_id, str) and session_id else thread_id,
        history=history,
        base_instructions=_base_instructions(meta),
        warnings=[*recorded.warnings, *warnings],
        identity=ThreadIdentity.from_session_meta(meta),
        total_usage=_last_total_usage(recorded.events),
    )


def continue_recording(state: ThreadState, recorded: RecordedThread) -> None:
    """Make `state` the recorded thread: same ids and history, appending to the same file."""
    state.thread_id = recorded.thread_id
    state.session_id = recorded.session_id
    state.identity = recorded.identity
    state.context.replace_history(recorded.history)
    state.total_usage = recorded.total_usage
    if recorded.base_instructions is not None:
        # The same instructions keep the request prefix identical, so prompt caches still hit.
        state.context.base_instructions = recorded.base_instructions
    state.recorder = RolloutRecorder.resume(recorded.path)
    state.rollout_path = recorded.path


def _typed_history(items: list[dict[str, Any]], path: Path) -> tuple[list[ResponseItem], list[str]]:
    history: list[ResponseItem] = []
    warnings: list[str] = []
    for index, item in enumerate(items):
        try:
            history.append(parse_item(item))
        except ItemValidationError as err:
            warnings.append(f"{path}: history item {index} skipped: {err}")
    return history, warnings


def _last_total_usage(events: list[dict[str, Any]]) -> TokenUsage:
    for event in reversed(events):
        info = event.get("info") if event.get("type") == "token_count" else None
        total = info.get("total_token_usage") if isinstance(info, dict) else None
        if isinstance(total, dict):
            return TokenUsage.from_event_payload(total)
    return TokenUsage()


def _base_instructions(meta: dict[str, Any]) -> str | None:
    value = meta.get("base_instructions")
    if isinstance(value, dict):
        value = value.get("text")
    return value if isinstance(value, str) else None


async def fork_thread(
    codex_home: Path, cwd: Path, recorded: RecordedThread, thread_id: str | None = None
) -> tuple[str, Path]:
    """Copy a recorded thread's history into a new thread (`thread_id`, or a fresh one) and
    file; returns its id and path."""
    thread_id = thread_id or new_thread_id()
    meta: dict[str, Any] = {
        "id": thread_id,
        "session_id": thread_id,
        "timestamp": format_timestamp(datetime.now(UTC)),
        "cwd": str(cwd),
        "originator": "pycodex_fork",
        "cli_version": __version__,
        "source": "fork",
        "forked_from": recorded.thread_id,
    }
    if recorded.base_instructions is not None:
        meta["base_instructions"] = {"text": recorded.base_instructions}
    recorder = RolloutRecorder(codex_home, thread_id, meta)
    recorder.record_items([item.to_wire() for item in recorded.history])
    await recorder.close()
    return thread_id, recorder.path
