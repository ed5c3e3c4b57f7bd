"""The turn loop: sample, run the tool calls, send their outputs, sample again.

A turn ends when the model answers without tool calls (there is no iteration cap), when a
non-retryable error occurs, or when it is cancelled (interrupt). Whatever ends it, every tool call
recorded in history gets an output, so the next request is valid.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence

from pycodex._records import dataclass, field, replace
from pycodex.agent.compact import compact, should_auto_compact
from pycodex.agent.identity import (
    MEMGEN_HEADER,
    MEMORY_CONSOLIDATION,
    SUBAGENT_HEADER_VALUE,
    SUBAGENT_KIND,
)
from pycodex.agent.rollout import collab_item_completed, turn_context
from pycodex.agent.sampling import SampleResult, ToolCall, sample
from pycodex.agent.state import Emit, ThreadState
from pycodex.client.request import HttpRetry, RequestContext
from pycodex.protocol import events as ev
from pycodex.protocol.errors import (
    ContextWindowExceeded,
    InvalidRequest,
    ModelError,
    QuotaExceeded,
    RateLimited,
    RetryLimitReached,
    ServerError,
    StreamDisconnected,
    UsageNotIncluded,
)
from pycodex.protocol.items import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    ResponseItem,
    ToolSearchCall,
    ToolSearchOutput,
)
from pycodex.protocol.usage import TokenUsage
from pycodex.sessions.errors import RolloutWriteError
from pycodex.sessions.ids import new_random_id
from pycodex.tools.base import CallerIdentity, ToolContext
from pycodex.tools.registry import dispatch_all

ABORTED_OUTPUT = "aborted"
# Upstream's v1 sub-agents all call themselves `/root` in their turn metadata (a quirk we keep).
ROOT_AGENT_NAME = "/root"
# Upstream's words for a turn that cannot fit, kept because clients and harnesses match on them.
OUT_OF_ROOM = (
    "Codex ran out of room in the model's context window: compacting the history did not make "
    "it fit. Start a new thread or clear earlier history before retrying."
)


@dataclass
class TurnResult:
    """What a finished turn produced."""

    turn_id: str
    output_text: str | None
    items: list[ResponseItem] = field(default_factory=list)
    usage: TokenUsage = field(default_factory=TokenUsage)
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


async def run_turn(
    state: ThreadState,
    user_input: Sequence[ResponseItem],
    emit: Emit,
    turn_id: str | None = None,
) -> TurnResult:
    """Run one turn to its end; cancellation propagates after history is made consistent.

    `turn_id` is the id a frontend chose for the turn; a fresh one otherwise."""
    state.turns_started += 1
    turn_id = turn_id or new_random_id()
    start = len(state.context.history)
    emit(ev.TurnStarted(turn_id))
    state.record_event(_task_started(state, turn_id))
    if state.recorder is not None:
        state.recorder.record_turn_context(turn_context(state))
    retries = _RetryBudget(state.client.retry_policy.stream_max_retries, emit)
    request = replace(request_context(state, turn_id), on_retry=retries.http_retry)
    result = TurnResult(turn_id=turn_id, output_text=None)
    taken = False
    try:
        if should_auto_compact(state):
            await compact(state, emit, "pre_turn", request)
        taken = await _record_input(state, turn_id, user_input, emit)
        if taken:
            result.output_text = await _loop(state, request, retries, emit)
    except ModelError as err:
        result.error = str(err)
        kind, status = error_kind(err)
        emit(ev.Error(result.error, kind, status))
    except RolloutWriteError as err:
        # The session file cannot be written (no space, read-only, not a directory): the turn
        # stops before the model is asked anything more, and the thread stops recording.
        result.error = str(err)
        emit(ev.Error(result.error))
        await _stop_recording(state)
    except asyncio.CancelledError:
        _close_dangling_calls(state)
        emit(ev.TurnAborted(turn_id, "interrupted"))
        state.record_event({"type": "turn_aborted", "turn_id": turn_id, "reason": "interrupted"})
        raise
    _close_dangling_calls(state)
    result.items = state.context.history[start:]
    result.usage = state.total_usage
    if state.hooks is not None and taken and not result.failed:
        prompts = [_text_of(item) for item in user_input]
        problem = state.hooks.turn_finished(state, turn_id, prompts, result.output_text)
        if problem is not None:
            emit(ev.HookReport(problem))
    state.record_event(
        {"type": "task_complete", "turn_id": turn_id, "last_agent_message": result.output_text}
        | ({"error": result.error} if result.error else {})
    )
    emit(ev.TurnComplete(turn_id, result.output_text, result.failed, state.total_usage))
    return result


async def _record_input(
    state: ThreadState, turn_id: str, user_input: Sequence[ResponseItem], emit: Emit
) -> bool:
    """Record the turn's input (after the initial context on a thread's first turn); False,
    with nothing recorded, when a UserPromptSubmit hook blocked it."""
    before: list[ResponseItem] = []
    after: list[ResponseItem] = []
    if state.hooks is not None:
        hooked = await state.hooks.before_turn(state, turn_id, user_input, emit)
        if hooked is None:
            return False
        before, after = hooked.before_prompt, hooked.after_prompt
    notices, state.pending_notifications = state.pending_notifications, []
    state.record([*notices, *state.context.turn_context_items(), *before, *user_input, *after])
    for item in user_input:
        state.record_event({"type": "user_message", "message": _text_of(item)})
    return True


def error_kind(err: ModelError) -> tuple[ev.ErrorKind, int | None]:
    """The class of a turn-ending failure and the HTTP status behind it, when there is one."""
    match err:
        case ContextWindowExceeded():
            return "context_window_exceeded", None
        case QuotaExceeded() | UsageNotIncluded():
            return "usage_limit_exceeded", None
        case InvalidRequest(status=401 | 403):
            return "unauthorized", err.status
        case InvalidRequest():
            return "bad_request", err.status
        case RetryLimitReached():
            return "retry_limit", err.status
        case RateLimited():
            return "rate_limit_exceeded", None
        case ServerError():
            return "internal_server_error", err.status
        case StreamDisconnected():
            return "stream_disconnected", None
        case _:
            return "other", None


def _task_started(state: ThreadState, turn_id: str) -> dict[str, object]:
    event: dict[str, object] = {"type": "task_started", "turn_id": turn_id}
    identity = state.identity
    if identity.is_subagent:
        event["turn_attribution"] = {
            "parent_turn_id": identity.parent_turn_id,
            "root_turn_id": identity.root_turn_id,
        }
    return event


async def _stop_recording(state: ThreadState) -> None:
    recorder, state.recorder = state.recorder, None
    if recorder is not None:
        with contextlib.suppress(RolloutWriteError):  # the failure was just reported
            await recorder.close()


def request_context(state: ThreadState, turn_id: str) -> RequestContext:
    identity = state.identity
    child = identity.is_subagent
    if identity.thread_source == MEMORY_CONSOLIDATION:
        return _internal_request_context(state, turn_id)
    return RequestContext(
        thread_id=state.thread_id,
        session_id=state.session_id,
        turn_id=turn_id,
        client_request_id=new_random_id(),
        sandbox_mode=state.context.sandbox_policy.mode.value,
        root_turn_id=identity.root_turn_id if child else turn_id,
        thread_source=identity.thread_source,
        turn_trigger="parent" if child else "user",
        parent_thread_id=identity.parent_thread_id,
        parent_turn_id=identity.parent_turn_id,
        subagent=SUBAGENT_HEADER_VALUE if child else None,
        subagent_kind=SUBAGENT_KIND if child else None,
        history_initialization=(
            identity.history_initialization
            if child or identity.history_initialization != "new"
            else None
        ),
        agent_name=ROOT_AGENT_NAME if child else None,
    )


def _internal_request_context(state: ThreadState, turn_id: str) -> RequestContext:
    """The memory consolidation agent's requests: its own ids, marked as internal work."""
    return RequestContext(
        thread_id=state.thread_id,
        session_id=state.session_id,
        turn_id=turn_id,
        client_request_id=new_random_id(),
        sandbox_mode=state.context.sandbox_policy.mode.value,
        thread_source=MEMORY_CONSOLIDATION,
        turn_trigger=MEMORY_CONSOLIDATION,
        subagent=MEMORY_CONSOLIDATION,
        extra_headers={MEMGEN_HEADER: "true"},
    )


class _RetryBudget:
    """The retries one turn shows the user, counted once: the client's HTTP-level waits it is
    told of (`RequestContext.on_retry`: a 429, a server-asked `Retry-After`) and the engine's
    re-sent requests share one "Reconnecting... n/N" counter and one `stream_max_retries`
    budget, so the user never sees two counters."""

    def __init__(self, limit: int, emit: Emit) -> None:
        self.limit = limit
        self.used = 0
        self.emit = emit

    def http_retry(self, retry: HttpRetry) -> bool:
        """The `RequestContext.on_retry` listener: may the client's retry go ahead?"""
        return self.announce(retry.reason, retry.delay_s)

    def announce(self, reason: str, delay_s: float) -> bool:
        if self.used >= self.limit:
            return False
        self.used += 1
        self.emit(ev.StreamRetry(self.used, self.limit, reason, delay_s))
        return True


async def _loop(
    state: ThreadState, request: RequestContext, retries: _RetryBudget, emit: Emit
) -> str | None:
    last_message: str | None = None
    overflow_compacted = False
    while True:
        if state.recorder is not None:
            # What the model is about to see is on disk first: a killed run can be resumed.
            await state.recorder.written()
        try:
            outcome = await sample(state, request, emit)
        except ContextWindowExceeded as err:
            if overflow_compacted or not await _compact_on_overflow(state, err, request, emit):
                # What the server said is in the compaction events; the turn ends with one line.
                raise ContextWindowExceeded(OUT_OF_ROOM, err.requested_tokens) from err
            overflow_compacted = True
            continue
        overflow_compacted = False
        last_message = outcome.last_message or last_message
        if outcome.tool_calls:
            await _run_tools(state, request, outcome.tool_calls, emit)
        if outcome.error is not None:
            await _before_retry(state, outcome, retries)
            continue
        if not outcome.tool_calls:
            if state.hooks is not None:  # a Stop hook may continue the turn
                prompt = await state.hooks.stop(state, request.turn_id, last_message, emit)
                if prompt is not None:
                    state.record([prompt])
                    continue
            return last_message
        _take_pending_input(state)
        if should_auto_compact(state):
            await compact(state, emit, "mid_turn", request)


async def _compact_on_overflow(
    state: ThreadState, err: ContextWindowExceeded, request: RequestContext, emit: Emit
) -> bool:
    """The request did not fit: note how big it was, compact, and let the caller retry once."""
    if err.requested_tokens is not None:
        state.context_tokens = err.requested_tokens
        sample_usage = TokenUsage(
            input_tokens=err.requested_tokens, total_tokens=err.requested_tokens
        )
        emit(ev.TokenCount(total=state.total_usage, last=sample_usage))
        state.record_event(
            {"type": "token_count", "info": {"last_token_usage": sample_usage.to_event_payload()}}
        )
    return await compact(state, emit, "overflow", request)


async def _before_retry(state: ThreadState, outcome: SampleResult, retries: _RetryBudget) -> None:
    error = outcome.error
    assert error is not None
    if retries.used >= retries.limit:
        raise error
    delay = state.client.retry_policy.delay(retries.used + 1, error.retry_after_s)
    retries.announce(str(error), delay)
    await asyncio.sleep(delay)


async def _run_tools(
    state: ThreadState, request: RequestContext, calls: list[ToolCall], emit: Emit
) -> None:
    turn_id = request.turn_id
    caller = CallerIdentity(
        session_id=request.session_id,
        thread_id=request.thread_id,
        window_id=request.window_id,
        turn_metadata=request.turn_metadata(state.client.settings),
    )

    def tool_emit(event: ev.EngineEvent) -> None:
        if isinstance(event, ev.CollabToolCallEnd):
            state.record_event(collab_item_completed(event, turn_id))
        emit(event)

    def make_context(call: ToolCall) -> ToolContext:
        return ToolContext(
            call_id=_call_id(call),
            turn_id=turn_id,
            cwd=state.context.cwd,
            sandbox_policy=state.context.sandbox_policy,
            approval_policy=state.context.approval_policy,
            shell_environment_policy=state.shell_environment_policy,
            emit=tool_emit,
            services=state.services,
            caller=caller,
        )

    for call in calls:
        emit(ev.ToolCallBegin(_call_id(call), _call_name(call), _arguments_text(call)))
    around = state.hooks.tools(state, turn_id, emit) if state.hooks is not None else None
    results = await dispatch_all(
        state.tools,
        calls,
        make_context,
        output_token_limit=state.tool_output_token_limit,
        around=around,
    )
    for call, (_item, output) in zip(calls, results, strict=True):
        emit(ev.ToolCallEnd(_call_id(call), _call_name(call), output.text, output.success))
    items = [item for item, _output in results]
    state.record(around.with_contexts(items) if around is not None else items)


def _take_pending_input(state: ThreadState) -> None:
    """Steering: input typed during the turn joins it at this sampling boundary, after any
    sub-agent notifications that arrived meanwhile."""
    if state.pending_notifications:
        notices, state.pending_notifications = state.pending_notifications, []
        state.record(notices)
    if state.pending_input:
        items, state.pending_input = state.pending_input, []
        state.record(items)


def _close_dangling_calls(state: ThreadState) -> None:
    answered = {
        item.call_id
        for item in state.context.history
        if isinstance(item, FunctionCallOutput | CustomToolCallOutput | ToolSearchOutput)
    }
    missing: list[ResponseItem] = []
    for item in state.context.history:
        call_id = getattr(item, "call_id", None)
        kinds = ("function_call", "custom_tool_call", "tool_search_call")
        if item.type not in kinds or call_id in answered or not isinstance(call_id, str):
            continue
        if isinstance(item, CustomToolCall):
            missing.append(CustomToolCallOutput(call_id=call_id, output=ABORTED_OUTPUT))
        elif isinstance(item, ToolSearchCall):
            if item.execution != "server":
                missing.append(_empty_search_output(call_id))
        else:
            missing.append(FunctionCallOutput(call_id=call_id, output=ABORTED_OUTPUT))
    if missing:
        state.record(missing)


def _empty_search_output(call_id: str) -> ToolSearchOutput:
    return ToolSearchOutput(call_id=call_id, status="completed", execution="client", tools=[])


def _call_id(call: ToolCall) -> str:
    return (call.call_id or "") if isinstance(call, ToolSearchCall) else call.call_id


def _call_name(call: ToolCall) -> str:
    if isinstance(call, ToolSearchCall):
        return "tool_search"
    namespace = call.namespace if isinstance(call, FunctionCall) else None
    return f"{namespace}.{call.name}" if namespace else call.name


def _arguments_text(call: ToolCall) -> str:
    if isinstance(call, ToolSearchCall):
        return json.dumps(call.arguments or {})
    return call.input if isinstance(call, CustomToolCall) else call.arguments


def _text_of(item: ResponseItem) -> str:
    text = getattr(item, "text", "")
    return text if isinstance(text, str) else ""
