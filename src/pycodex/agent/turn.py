"""The turn loop: sample, run the tool calls, send their outputs, sample again.

A turn ends when the model answers without tool calls (there is no iteration cap), when a
non-retryable error occurs, or when it is cancelled (interrupt). Whatever ends it, every tool call
recorded in history gets an output, so the next request is valid.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pycodex._records import dataclass, field, replace
from pycodex.agent.compact import compact, should_auto_compact
from pycodex.agent.rollout import turn_context
from pycodex.agent.sampling import SampleResult, ToolCall, sample
from pycodex.agent.state import Emit, ThreadState
from pycodex.client.request import HttpRetry, RequestContext
from pycodex.protocol import events as ev
from pycodex.protocol.errors import ContextWindowExceeded, ModelError
from pycodex.protocol.items import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCallOutput,
    ResponseItem,
)
from pycodex.protocol.usage import TokenUsage
from pycodex.sessions.ids import new_random_id
from pycodex.tools.base import ToolContext
from pycodex.tools.registry import dispatch_all

ABORTED_OUTPUT = "aborted"


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
    state: ThreadState, user_input: Sequence[ResponseItem], emit: Emit
) -> TurnResult:
    """Run one turn to its end; cancellation propagates after history is made consistent."""
    state.turns_started += 1
    turn_id = new_random_id()
    start = len(state.context.history)
    emit(ev.TurnStarted(turn_id))
    state.record_event({"type": "task_started", "turn_id": turn_id})
    if state.recorder is not None:
        state.recorder.record_turn_context(turn_context(state))
    retries = _RetryBudget(state.client.retry_policy.stream_max_retries, emit)
    request = replace(request_context(state, turn_id), on_retry=retries.http_retry)
    result = TurnResult(turn_id=turn_id, output_text=None)
    try:
        if should_auto_compact(state):
            await compact(state, emit, "pre_turn", request)
        state.record([*state.context.turn_context_items(), *user_input])
        for item in user_input:
            state.record_event({"type": "user_message", "message": _text_of(item)})
        result.output_text = await _loop(state, request, retries, emit)
    except ModelError as err:
        result.error = str(err)
        emit(ev.Error(result.error))
    except asyncio.CancelledError:
        _close_dangling_calls(state)
        emit(ev.TurnAborted(turn_id, "interrupted"))
        state.record_event({"type": "turn_aborted", "turn_id": turn_id, "reason": "interrupted"})
        raise
    _close_dangling_calls(state)
    result.items = state.context.history[start:]
    result.usage = state.total_usage
    state.record_event(
        {"type": "task_complete", "turn_id": turn_id, "last_agent_message": result.output_text}
        | ({"error": result.error} if result.error else {})
    )
    emit(ev.TurnComplete(turn_id, result.output_text, result.failed, state.total_usage))
    return result


def request_context(state: ThreadState, turn_id: str) -> RequestContext:
    return RequestContext(
        thread_id=state.thread_id,
        session_id=state.session_id,
        turn_id=turn_id,
        client_request_id=new_random_id(),
        sandbox_mode=state.context.sandbox_policy.mode.value,
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
                raise
            overflow_compacted = True
            continue
        overflow_compacted = False
        last_message = outcome.last_message or last_message
        if outcome.tool_calls:
            await _run_tools(state, request.turn_id, outcome.tool_calls, emit)
        if outcome.error is not None:
            await _before_retry(state, outcome, retries)
            continue
        if not outcome.tool_calls:
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


async def _run_tools(state: ThreadState, turn_id: str, calls: list[ToolCall], emit: Emit) -> None:
    def make_context(call: ToolCall) -> ToolContext:
        return ToolContext(
            call_id=call.call_id,
            turn_id=turn_id,
            cwd=state.context.cwd,
            sandbox_policy=state.context.sandbox_policy,
            approval_policy=state.context.approval_policy,
            shell_environment_policy=state.shell_environment_policy,
            emit=emit,
            services=state.services,
        )

    for call in calls:
        emit(ev.ToolCallBegin(call.call_id, call.name, _arguments_text(call)))
    results = await dispatch_all(
        state.tools, calls, make_context, output_token_limit=state.tool_output_token_limit
    )
    for call, (_item, output) in zip(calls, results, strict=True):
        emit(ev.ToolCallEnd(call.call_id, call.name, output.text, output.success))
    state.record([item for item, _output in results])


def _take_pending_input(state: ThreadState) -> None:
    """Steering: input typed during the turn joins it at this sampling boundary."""
    if state.pending_input:
        items, state.pending_input = state.pending_input, []
        state.record(items)


def _close_dangling_calls(state: ThreadState) -> None:
    answered = {
        item.call_id
        for item in state.context.history
        if isinstance(item, FunctionCallOutput | CustomToolCallOutput)
    }
    missing: list[ResponseItem] = []
    for item in state.context.history:
        call_id = getattr(item, "call_id", None)
        if item.type not in ("function_call", "custom_tool_call") or call_id in answered:
            continue
        assert isinstance(call_id, str)
        if isinstance(item, CustomToolCall):
            missing.append(CustomToolCallOutput(call_id=call_id, output=ABORTED_OUTPUT))
        else:
            missing.append(FunctionCallOutput(call_id=call_id, output=ABORTED_OUTPUT))
    if missing:
        state.record(missing)


def _arguments_text(call: ToolCall) -> str:
    return call.input if isinstance(call, CustomToolCall) else call.arguments


def _text_of(item: ResponseItem) -> str:
    text = getattr(item, "text", "")
    return text if isinstance(text, str) else ""
