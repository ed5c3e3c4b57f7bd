"""Compacting a thread's history: manual, before a turn, mid-turn, and on context overflow.

Remote compaction (the provider returns one opaque item) is tried first when enabled; if it
fails, local compaction runs and a warning says so. Local compaction asks the model, with no
tools, for a handoff note; if even that request does not fit, the oldest tool calls and their
outputs are left out of it one by one until it does. The new history is recorded as a
`compacted` record so a resume starts from the same state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pycodex.agent.state import Emit, ThreadState
from pycodex.client.request import Prompt, RequestContext
from pycodex.compaction.history import (
    compacted_history,
    summarization_input,
    without_oldest_tool_call,
)
from pycodex.compaction.remote import (
    compaction_item,
    compaction_request_item,
    remote_history,
)
from pycodex.context.tokens import approx_items_token_count
from pycodex.protocol import events as ev
from pycodex.protocol.errors import ContextWindowExceeded, ModelError, RetryableError
from pycodex.protocol.items import Message, ResponseItem
from pycodex.protocol.response_events import OutputItemDone, ResponseCompleted


def should_auto_compact(state: ThreadState) -> bool:
    limit = state.auto_compact_token_limit
    return limit is not None and limit > 0 and state.context_tokens >= limit


def history_tokens(items: Sequence[ResponseItem]) -> int:
    return approx_items_token_count(item.to_wire() for item in items)


async def compact(
    state: ThreadState, emit: Emit, phase: ev.CompactionPhase, request: RequestContext
) -> bool:
    """Compact now; False (after a CompactionFailed event) when it could not be done."""
    hooks = state.hooks
    if hooks is not None:
        await hooks.compaction(state, request.turn_id, phase == "manual", emit, done=False)
    history = state.context.history
    # Before and after come from one estimator: the server's usage counts instructions and tools
    # too, so comparing it with an estimate of the history could report that compaction grew it.
    before = history_tokens(history)
    emit(ev.CompactionStarted(phase, before))
    try:
        new_history, summary, pruned, remote = await _compacted(state, emit, history, request)
    except ModelError as err:
        emit(ev.CompactionFailed(phase, str(err)))
        return False
    after = history_tokens(new_history)
    if phase != "manual" and after >= before:
        # Automatic compaction must never grow the context: the trigger would fire again, and
        # after an overflow the retry could not fit either.
        emit(ev.CompactionFailed(phase, "the compacted history would not be smaller; kept as is"))
        return False
    state.context.replace_history(new_history)
    if state.recorder is not None:
        state.recorder.record_compacted(summary, [item.to_wire() for item in new_history])
    state.context_tokens = after
    emit(ev.CompactionCompleted(phase, before, after, len(new_history), pruned, remote))
    if hooks is not None:
        await hooks.compaction(state, request.turn_id, phase == "manual", emit, done=True)
    return True


async def _compacted(
    state: ThreadState, emit: Emit, history: list[ResponseItem], request: RequestContext
) -> tuple[list[ResponseItem], str, int, bool]:
    if state.remote_compaction:
        try:
            return await _remote(state, history, request), "", 0, True
        except ModelError as err:
            emit(ev.Warning(f"remote compaction failed ({err}); compacting locally instead"))
    new_history, summary, pruned = await _local(state, history, request)
    return new_history, summary, pruned, False


async def _local(
    state: ThreadState, history: list[ResponseItem], request: RequestContext
) -> tuple[list[ResponseItem], str, int]:
    shown = history
    pruned = 0
    while True:
        try:
            summary = await _summarize(state, summarization_input(shown), request)
            break
        except ContextWindowExceeded:
            smaller = without_oldest_tool_call(shown)
            if smaller is None:
                raise
            shown, pruned = smaller, pruned + 1
    initial = state.context.initial_context_items()
    return compacted_history(initial, history, summary), summary, pruned


async def _summarize(
    state: ThreadState, prompt_input: list[ResponseItem], request: RequestContext
) -> str:
    outputs = await _sample_without_tools(state, prompt_input, request)
    texts = [
        item.text for item in outputs if isinstance(item, Message) and item.role == "assistant"
    ]
    summary = "\n\n".join(text for text in texts if text.strip())
    if not summary:
        raise ModelError("the compaction request returned no summary text")
    return summary


async def _remote(
    state: ThreadState, history: list[ResponseItem], request: RequestContext
) -> list[ResponseItem]:
    outputs = await _sample_without_tools(state, [*history, compaction_request_item()], request)
    return remote_history(history, compaction_item(outputs))


async def _sample_without_tools(
    state: ThreadState, prompt_input: list[ResponseItem], request: RequestContext
) -> list[ResponseItem]:
    """One tool-less request, retried like a turn's; returns its finished output items."""
    prompt = Prompt(
        input=prompt_input,
        instructions=state.context.base_instructions,
        parallel_tool_calls=False,
    )
    policy = state.client.retry_policy
    attempt = 0
    while True:
        outputs: list[ResponseItem] = []
        try:
            async for event in state.client.stream(prompt, request):
                if isinstance(event, OutputItemDone):
                    outputs.append(event.item)
                elif isinstance(event, ResponseCompleted):
                    state.last_response_id = event.response_id
            return outputs
        except RetryableError as err:
            attempt += 1
            if attempt > policy.stream_max_retries:
                raise
            await asyncio.sleep(policy.delay(attempt, err.retry_after_s))
