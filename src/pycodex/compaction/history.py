"""Pure functions over a history: what compaction keeps, prunes and puts back.

A compacted history is: the initial context (as the context manager renders it now), the most
recent real user messages within a token budget, and the summary as a user message marked with
`SUMMARY_TAG`. The newest user message is always kept - what the user asked last must survive
compaction - cut in the middle when it alone is over the budget; older ones fill what is left of
the budget, newest first, the first that does not fit cut to the rest; all are put back in their
original order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pycodex.context.tokens import approx_token_count
from pycodex.execution.truncate import truncate_middle
from pycodex.protocol.context_markers import COMPACTION_SUMMARY_TAG, is_injected_context
from pycodex.protocol.items import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    InputText,
    Message,
    ResponseItem,
    UnknownItem,
)

SUMMARY_TAG = COMPACTION_SUMMARY_TAG  # summary_prefix.md starts with it
USER_MESSAGE_BUDGET_TOKENS = 20_000


def load_prompt(name: str) -> str:
    return (Path(__file__).with_name("prompts") / name).read_text("utf-8")


def is_real_user_message(item: ResponseItem) -> bool:
    """A user message the user wrote: none of its text parts is injected context."""
    if not isinstance(item, Message) or item.role != "user":
        return False
    texts = [part.text for part in item.content if isinstance(part, InputText)]
    return not any(is_injected_context(text) for text in texts)


def recent_user_messages(
    history: Sequence[ResponseItem], budget_tokens: int = USER_MESSAGE_BUDGET_TOKENS
) -> list[Message]:
    """The newest real user messages within the budget, oldest first (see the module doc)."""
    kept: list[Message] = []
    left = budget_tokens
    for item in reversed(history):
        if not is_real_user_message(item):
            continue
        assert isinstance(item, Message)
        if kept and left <= 0:
            break
        cost = approx_token_count(item.text)
        if cost <= left:
            kept.append(item)
            left -= cost
            continue
        kept.append(_cut_to(item, max(left, 0)))
        break
    kept.reverse()
    return kept


def _cut_to(message: Message, budget_tokens: int) -> Message:
    """`message` with its text cut in the middle to about `budget_tokens`; other parts kept."""
    text = truncate_middle(message.text, budget_tokens).text
    others = [part for part in message.content if not isinstance(part, InputText)]
    return Message(role="user", content=[*others, InputText(text=text)])


def summary_message(summary: str) -> Message:
    text = f"{load_prompt('summary_prefix.md')}\n{summary.strip()}\n</compaction_summary>"
    return Message(role="user", content=[InputText(text=text)])


def compacted_history(
    initial_context: Sequence[ResponseItem], history: Sequence[ResponseItem], summary: str
) -> list[ResponseItem]:
    return [*initial_context, *recent_user_messages(history), summary_message(summary)]


def summarization_input(history: Sequence[ResponseItem]) -> list[ResponseItem]:
    """What the summarizing request sends: the history, then the request for a handoff note."""
    request = Message(role="user", content=[InputText(text=load_prompt("summarize.md"))])
    return [*history, request]


def without_oldest_tool_call(history: Sequence[ResponseItem]) -> list[ResponseItem] | None:
    """The history minus its oldest tool call and that call's output; None if there is none."""
    call_id = next(
        (item.call_id for item in history if isinstance(item, FunctionCall | CustomToolCall)),
        None,
    )
    if call_id is None:
        return None
    return [item for item in history if _call_id(item) != call_id]


def _call_id(item: ResponseItem) -> object:
    if isinstance(item, UnknownItem):  # item types this version does not model may carry one too
        return item.extra.get("call_id")
    return getattr(item, "call_id", None)


def is_tool_output(item: ResponseItem) -> bool:
    return isinstance(item, FunctionCallOutput | CustomToolCallOutput)
