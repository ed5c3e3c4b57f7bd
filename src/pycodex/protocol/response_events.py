"""Internal response events: what a model client yields while one response streams.

Every wire API (Responses SSE, Chat Completions chunks, Anthropic Messages events) is translated
into this handful of kinds, so the engine handles one vocabulary. Failures are not events: the
client raises an error from `pycodex.protocol.errors`.
"""

from __future__ import annotations

from typing import Literal

from pycodex._records import dataclass
from pycodex.protocol.items import ResponseItem
from pycodex.protocol.usage import TokenUsage


@dataclass(frozen=True, slots=True)
class ResponseCreated:
    response_id: str | None


@dataclass(frozen=True, slots=True)
class OutputItemAdded:
    item: ResponseItem


@dataclass(frozen=True, slots=True)
class OutputItemDone:
    item: ResponseItem


@dataclass(frozen=True, slots=True)
class OutputTextDelta:
    item_id: str | None
    delta: str


@dataclass(frozen=True, slots=True)
class ReasoningSummaryDelta:
    item_id: str | None
    delta: str
    summary_index: int = 0


@dataclass(frozen=True, slots=True)
class ReasoningTextDelta:
    item_id: str | None
    delta: str


@dataclass(frozen=True, slots=True)
class ToolCallInputDelta:
    """A piece of a function call's arguments or a custom tool call's input."""

    item_id: str | None
    delta: str


@dataclass(frozen=True, slots=True)
class StreamWarning:
    """Something in the stream could not be used and was skipped (a malformed event); the
    response goes on. The engine shows `message` as a warning."""

    message: str


@dataclass(frozen=True, slots=True)
class ResponseCompleted:
    response_id: str | None
    usage: TokenUsage | None
    status: Literal["completed", "incomplete"] = "completed"
    incomplete_reason: str | None = None


ResponseEvent = (
    ResponseCreated
    | OutputItemAdded
    | OutputItemDone
    | OutputTextDelta
    | ReasoningSummaryDelta
    | ReasoningTextDelta
    | ToolCallInputDelta
    | StreamWarning
    | ResponseCompleted
)
