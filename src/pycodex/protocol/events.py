"""Engine events: everything the engine reports, in order, on its event stream.

Frontends (the exec human printer, the exec JSONL processor, the REPL, tests) consume these; the
engine never prints. Each event is a frozen dataclass; `EngineEvent` is their union, so a consumer
can `match` on it and end with `assert_never`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pycodex._records import dataclass, field
from pycodex.protocol.agents import AgentStatus
from pycodex.protocol.usage import TokenUsage

CommandStatus = Literal["completed", "failed", "declined"]
FileChangeKind = Literal["add", "delete", "update"]
PlanStatus = Literal["pending", "in_progress", "completed"]


@dataclass(frozen=True, slots=True)
class SessionConfigured:
    thread_id: str
    session_id: str
    model: str
    provider_id: str
    cwd: Path
    approval_policy: str
    sandbox_mode: str
    reasoning_effort: str | None
    reasoning_summary: str | None
    rollout_path: Path | None = None


@dataclass(frozen=True, slots=True)
class TurnStarted:
    turn_id: str


# `item_id` on message and reasoning events is the model's output item id, when the wire API
# gives one: it ties the deltas of one message to the message.


@dataclass(frozen=True, slots=True)
class AgentMessageDelta:
    delta: str
    item_id: str | None = None


@dataclass(frozen=True, slots=True)
class AgentMessage:
    text: str
    item_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    delta: str
    item_id: str | None = None


@dataclass(frozen=True, slots=True)
class Reasoning:
    """A finished reasoning summary."""

    text: str
    item_id: str | None = None


@dataclass(frozen=True, slots=True)
class ExecCommandBegin:
    call_id: str
    command: str
    cwd: Path


@dataclass(frozen=True, slots=True)
class ExecCommandOutputDelta:
    """Output a running command produced since the last report (one tool call's worth: what
    `exec_command` or a `write_stdin` poll returned)."""

    call_id: str
    delta: str


@dataclass(frozen=True, slots=True)
class ExecCommandEnd:
    call_id: str
    command: str
    cwd: Path
    exit_code: int | None
    aggregated_output: str
    duration_s: float
    status: CommandStatus


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file a patch changes: its absolute path (the destination of a move) and, for people,
    a git-style unified diff of the change."""

    path: str
    kind: FileChangeKind
    unified_diff: str = ""


@dataclass(frozen=True, slots=True)
class PatchApplyBegin:
    call_id: str
    changes: tuple[FileChange, ...]


@dataclass(frozen=True, slots=True)
class PatchApplyEnd:
    call_id: str
    changes: tuple[FileChange, ...]
    success: bool
    output: str


@dataclass(frozen=True, slots=True)
class PlanStep:
    step: str
    status: PlanStatus


@dataclass(frozen=True, slots=True)
class PlanUpdated:
    explanation: str | None
    steps: tuple[PlanStep, ...]


@dataclass(frozen=True, slots=True)
class WebSearchBegin:
    call_id: str
    # Known at the start when the model's call already carries its action (e.g. the query).
    query: str = ""
    action: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class WebSearchEnd:
    call_id: str
    query: str
    action: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ToolCallBegin:
    """A tool without a dedicated event kind started (read_file, custom tools, ...)."""

    call_id: str
    tool_name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolCallEnd:
    call_id: str
    tool_name: str
    output: str
    success: bool


@dataclass(frozen=True, slots=True)
class McpToolCallBegin:
    """A call to an MCP server's tool started; `server` and `tool` are the server's own names,
    `arguments` the parsed JSON object the model sent."""

    call_id: str
    server: str
    tool: str
    arguments: Any


@dataclass(frozen=True, slots=True)
class McpToolCallEnd:
    """The call finished: `result` is `{content, structured_content}` when the server answered,
    `error` says why there is no result (refused, timed out, the server gone)."""

    call_id: str
    server: str
    tool: str
    arguments: Any
    result: dict[str, Any] | None
    error: str | None
    success: bool
    duration_s: float = 0.0


# How exec reports each sub-agent tool (upstream calls wait_agent and resume_agent both "wait").
CollabTool = Literal["spawn_agent", "send_input", "wait", "close_agent"]


@dataclass(frozen=True, slots=True)
class CollabToolCallBegin:
    """A sub-agent tool call started (spawn, send, wait, close, resume)."""

    call_id: str
    tool: CollabTool
    sender_thread_id: str
    receiver_thread_ids: tuple[str, ...]
    prompt: str | None


@dataclass(frozen=True, slots=True)
class CollabToolCallEnd:
    """A sub-agent tool call finished; `agents_states` lists the agents it reports on."""

    call_id: str
    tool: CollabTool
    sender_thread_id: str
    receiver_thread_ids: tuple[str, ...]
    prompt: str | None
    agents_states: tuple[tuple[str, AgentStatus], ...]
    success: bool
    # Nicknames of the receivers, and the model settings a spawn used (for rollouts and UIs).
    receiver_nicknames: tuple[tuple[str, str | None], ...] = ()
    model: str | None = None
    reasoning_effort: str | None = None


@dataclass(frozen=True, slots=True)
class TokenCount:
    total: TokenUsage
    last: TokenUsage
    model_context_window: int | None = None


@dataclass(frozen=True, slots=True)
class ExecApprovalRequest:
    """The agent wants to run a command that needs the user's approval; answer with the
    `ApprovalDecision` op carrying the same `call_id`."""

    call_id: str
    command: str
    cwd: Path
    reason: str | None
    # The prefix an "always" answer would allow from now on.
    proposed_prefix: tuple[str, ...]
    escalated: bool


@dataclass(frozen=True, slots=True)
class PatchApprovalRequest:
    call_id: str
    changes: tuple[FileChange, ...]
    reason: str | None


@dataclass(frozen=True, slots=True)
class McpToolApprovalRequest:
    """An MCP tool call waits for the user; answer with `ApprovalDecision` (same `call_id`).
    "approved_for_session" / "approved_always" allow this tool for the rest of the session."""

    call_id: str
    server: str
    tool: str
    arguments: Any


ApprovalRequest = ExecApprovalRequest | PatchApprovalRequest | McpToolApprovalRequest

CompactionPhase = Literal["manual", "pre_turn", "mid_turn", "overflow"]


@dataclass(frozen=True, slots=True)
class CompactionStarted:
    phase: CompactionPhase
    tokens_before: int


@dataclass(frozen=True, slots=True)
class CompactionCompleted:
    phase: CompactionPhase
    tokens_before: int
    tokens_after: int
    items_kept: int
    items_pruned: int
    remote: bool


@dataclass(frozen=True, slots=True)
class CompactionFailed:
    phase: CompactionPhase
    message: str


@dataclass(frozen=True, slots=True)
class StreamRetry:
    """The turn is re-sending its request after a retryable failure."""

    attempt: int
    max_attempts: int
    reason: str
    delay_s: float = 0.0

    @property
    def message(self) -> str:
        return f"Reconnecting... {self.attempt}/{self.max_attempts} ({self.reason})"


@dataclass(frozen=True, slots=True)
class Warning:
    message: str


# What kind of failure ended a turn, for frontends that classify errors (the app-server).
ErrorKind = Literal[
    "context_window_exceeded",
    "usage_limit_exceeded",
    "unauthorized",
    "bad_request",
    "rate_limit_exceeded",
    "retry_limit",
    "internal_server_error",
    "stream_disconnected",
    "other",
]


@dataclass(frozen=True, slots=True)
class HookReport:
    """A hook failed, gave invalid output or asked to show a message: one line for the user,
    never for the model (exec writes it to stderr, even with `--json`)."""

    message: str


@dataclass(frozen=True, slots=True)
class Error:
    """The turn failed; `TurnComplete` or `TurnAborted` still follows."""

    message: str
    kind: ErrorKind = "other"
    http_status: int | None = None


@dataclass(frozen=True, slots=True)
class TurnComplete:
    turn_id: str
    last_agent_message: str | None
    failed: bool = False
    usage: TokenUsage = field(default_factory=TokenUsage)


@dataclass(frozen=True, slots=True)
class TurnAborted:
    turn_id: str
    reason: Literal["interrupted", "replaced", "shutdown"]


@dataclass(frozen=True, slots=True)
class ShutdownComplete:
    pass


EngineEvent = (
    SessionConfigured
    | TurnStarted
    | AgentMessageDelta
    | AgentMessage
    | ReasoningDelta
    | Reasoning
    | ExecCommandBegin
    | ExecCommandOutputDelta
    | ExecCommandEnd
    | PatchApplyBegin
    | PatchApplyEnd
    | PlanUpdated
    | WebSearchBegin
    | WebSearchEnd
    | ToolCallBegin
    | ToolCallEnd
    | McpToolCallBegin
    | McpToolCallEnd
    | CollabToolCallBegin
    | CollabToolCallEnd
    | ExecApprovalRequest
    | PatchApprovalRequest
    | McpToolApprovalRequest
    | TokenCount
    | CompactionStarted
    | CompactionCompleted
    | CompactionFailed
    | StreamRetry
    | Warning
    | HookReport
    | Error
    | TurnComplete
    | TurnAborted
    | ShutdownComplete
)
