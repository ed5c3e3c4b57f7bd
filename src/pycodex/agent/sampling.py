"""One sampling request: stream a response, record each finished item, report events.

Completed output items go into history the moment they finish, so a stream that breaks later
keeps them; the caller decides whether to retry.
"""

from __future__ import annotations

from pycodex._records import dataclass, field
from pycodex.agent.state import Emit, ThreadState
from pycodex.client.request import Prompt, RequestContext
from pycodex.protocol import events as ev
from pycodex.protocol.errors import RetryableError
from pycodex.protocol.items import (
    CustomToolCall,
    FunctionCall,
    Message,
    Reasoning,
    ResponseItem,
    ToolSearchCall,
    WebSearchCall,
)
from pycodex.protocol.response_events import (
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    ReasoningSummaryDelta,
    ReasoningTextDelta,
    ResponseCompleted,
    ResponseCreated,
    ResponseEvent,
    StreamWarning,
    ToolCallInputDelta,
)
from pycodex.protocol.usage import TokenUsage

ToolCall = FunctionCall | CustomToolCall | ToolSearchCall


@dataclass
class SampleResult:
    tool_calls: list[ToolCall] = field(default_factory=list)
    last_message: str | None = None
    error: RetryableError | None = None


def build_prompt(state: ThreadState) -> Prompt:
    return Prompt(
        input=state.context.prompt_input(),
        instructions=state.context.base_instructions,
        tools=state.tools.specs(),
        parallel_tool_calls=state.parallel_tool_calls,
        output_schema=state.output_schema,
    )


async def sample(state: ThreadState, request: RequestContext, emit: Emit) -> SampleResult:
    """Stream one response. Retryable failures are returned, every other error raised."""
    result = SampleResult()
    try:
        async for event in state.client.stream(build_prompt(state), request):
            _handle(state, event, result, emit)
    except RetryableError as err:
        result.error = err
    return result


def _handle(state: ThreadState, event: ResponseEvent, result: SampleResult, emit: Emit) -> None:
    match event:
        case OutputTextDelta(delta=delta, item_id=item_id):  # first: by far the most frequent
            emit(ev.AgentMessageDelta(delta, item_id))
        case OutputItemDone(item=item):
            _item_done(state, item, result, emit)
        case OutputItemAdded(item=WebSearchCall() as call):
            emit(ev.WebSearchBegin(call_id=call.id or "", query=call.query, action=call.action))
        case ReasoningSummaryDelta(delta=delta, item_id=item_id):
            emit(ev.ReasoningDelta(delta, item_id))
        case StreamWarning(message=message):
            emit(ev.Warning(message))
        case ResponseCompleted(usage=usage, response_id=response_id) if usage is not None:
            state.last_response_id = response_id
            state.context_tokens = usage.total_tokens
            state.total_usage = state.total_usage + usage
            emit(ev.TokenCount(state.total_usage, usage, state.model_context_window))
            state.record_event({"type": "token_count", "info": _usage_info(state, usage)})
        case (
            OutputItemAdded()
            | ReasoningTextDelta()
            | ToolCallInputDelta()
            | ResponseCreated()
            | ResponseCompleted()
        ):
            pass


def _item_done(state: ThreadState, item: ResponseItem, result: SampleResult, emit: Emit) -> None:
    state.record([item])
    match item:
        case Message(role="assistant"):
            result.last_message = item.text
            emit(ev.AgentMessage(item.text, item.id))
            state.record_event({"type": "agent_message", "message": item.text})
        case Reasoning() if item.summary:
            emit(ev.Reasoning(item.summary_text, item.id))
        case FunctionCall() | CustomToolCall():
            result.tool_calls.append(item)
        case ToolSearchCall(execution=execution) if execution != "server":
            result.tool_calls.append(item)
        case WebSearchCall():
            emit(ev.WebSearchEnd(call_id=item.id or "", query=item.query, action=item.action))
        case _:
            pass


def _usage_info(state: ThreadState, last: TokenUsage) -> dict[str, object]:
    return {
        "total_token_usage": state.total_usage.to_event_payload(),
        "last_token_usage": last.to_event_payload(),
    }
