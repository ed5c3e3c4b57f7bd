"""What one model request carries: the prompt and the identity of the turn sending it."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from pycodex._records import dataclass, field
from pycodex.protocol.items import ResponseItem


@dataclass(frozen=True, slots=True)
class Prompt:
    """Everything a sampling request sends that changes from request to request."""

    input: Sequence[ResponseItem]
    instructions: str | None = None
    tools: Sequence[dict[str, Any]] = ()
    parallel_tool_calls: bool = True
    output_schema: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """Per-thread model choices; the client holds one, `/model` swaps it."""

    model: str
    reasoning_effort: str | None = None
    reasoning_summary: str | None = None
    verbosity: str | None = None


MAX_RETRY_WAIT_S = 60.0
"""The longest pycodex waits before one retry, whatever `Retry-After` (or a "try again in"
hint) asks for: a server that asks for a day gets retried after a minute, and the wait is shown."""


@dataclass(frozen=True, slots=True)
class HttpRetry:
    """A retry the client is about to wait for, that the user should see (a 429, or a wait the
    server asked for): `reason` is the failure ("exceeded retry limit, last status: 429 Too Many
    Requests"), `delay_s` the wait before the next attempt."""

    reason: str
    delay_s: float


RetryListener = Callable[[HttpRetry], bool]
"""Told of each visible HTTP-level retry before its wait; answers whether the retry may go
ahead (False: the turn's retry budget is spent, and the client gives up with the error)."""


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who is asking: sent as headers, as `client_metadata`, and as the prompt cache key.

    `session_id` is shared by every thread of a tree, `thread_id` is this thread's own. A
    sub-agent's request also names its parent thread and the parent and root turns.

    `on_retry` hears of the HTTP-level retries the user waits for (see `RetryListener`); the
    engine shows them as "Reconnecting... n/N" and counts them with its own re-sent requests.
    Without one, the client allows `stream_max_retries` such retries per request.
    """

    thread_id: str
    session_id: str
    turn_id: str
    client_request_id: str
    sandbox_mode: str | None = None
    extra_metadata: dict[str, str] = field(default_factory=dict)
    root_turn_id: str | None = None
    thread_source: str = "user"
    turn_trigger: str = "user"
    parent_thread_id: str | None = None
    parent_turn_id: str | None = None
    # The `x-openai-subagent` header value ("collab_spawn") for sub-agents.
    subagent: str | None = None
    subagent_kind: str | None = None
    history_initialization: str | None = None
    agent_name: str | None = None
    # Headers of an internal request (the memory pipeline's), sent after the identity headers.
    extra_headers: dict[str, str] = field(default_factory=dict)
    on_retry: RetryListener | None = field(default=None, compare=False, repr=False)

    @property
    def window_id(self) -> str:
        return f"{self.thread_id}:0"

    def turn_metadata(self, settings: ModelSettings) -> dict[str, Any]:
        data: dict[str, Any] = {
            "session_id": self.session_id,
            "thread_id": self.thread_id,
            "turn_id": self.turn_id,
            "root_turn_id": self.root_turn_id or self.turn_id,
            "window_id": self.window_id,
            "thread_source": self.thread_source,
            "turn_trigger": self.turn_trigger,
            "sandbox_mode": self.sandbox_mode,
            "model": settings.model,
            "reasoning_effort": settings.reasoning_effort,
        }
        if self.parent_thread_id is not None:
            data["parent_thread_id"] = self.parent_thread_id
            data["parent_turn_id"] = self.parent_turn_id
            data["subagent_kind"] = self.subagent_kind
        if self.history_initialization is not None:
            data["history_initialization"] = self.history_initialization
        if self.agent_name is not None:
            data["agent_name"] = self.agent_name
        data.update(self.extra_metadata)
        return data

    def turn_metadata_header(self, settings: ModelSettings) -> str:
        return json.dumps(self.turn_metadata(settings), separators=(",", ":"))

    def client_metadata(self, settings: ModelSettings) -> dict[str, str]:
        """The body's `client_metadata`: the turn metadata as JSON text plus the ids as keys."""
        metadata = {
            "x-codex-turn-metadata": self.turn_metadata_header(settings),
            "session_id": self.session_id,
            "thread_id": self.thread_id,
            "turn_id": self.turn_id,
            "root_turn_id": self.root_turn_id or self.turn_id,
            "x-codex-window-id": self.window_id,
        }
        if self.parent_thread_id is not None:
            metadata["parent_turn_id"] = self.parent_turn_id or ""
            metadata["x-codex-parent-thread-id"] = self.parent_thread_id
            metadata["x-openai-subagent"] = self.subagent or ""
        return metadata

    def headers(self, settings: ModelSettings) -> dict[str, str]:
        """The identity headers of a model request (besides originator and user-agent)."""
        headers = {
            "session-id": self.session_id,
            "thread-id": self.thread_id,
            "x-client-request-id": self.client_request_id,
            "x-codex-window-id": self.window_id,
            "x-codex-turn-metadata": self.turn_metadata_header(settings),
        }
        if self.parent_thread_id is not None:
            headers["x-codex-parent-thread-id"] = self.parent_thread_id
        if self.subagent is not None:
            headers["x-openai-subagent"] = self.subagent
        headers.update(self.extra_headers)
        return headers


def build_responses_body(
    prompt: Prompt, settings: ModelSettings, context: RequestContext
) -> dict[str, Any]:
    """The `POST /responses` JSON body, keys in the order upstream Codex sends them."""
    return _body(prompt, settings, context, [item.to_wire() for item in prompt.input])


def encode_responses_body(prompt: Prompt, settings: ModelSettings, context: RequestContext) -> str:
    """`json.dumps(build_responses_body(...), ensure_ascii=False)`, built without re-serializing
    the history: each input item contributes its cached JSON text (`wire_json`)."""
    body = _body(prompt, settings, context, None)
    keys = list(body)
    split = keys.index("input")
    head = json.dumps({key: body[key] for key in keys[:split]}, ensure_ascii=False)
    tail = {key: body[key] for key in keys[split + 1 :]}
    items = ", ".join(item.wire_json() for item in prompt.input)
    text = f'{head[:-1]}, "input": [{items}]'
    return text + (", " + json.dumps(tail, ensure_ascii=False)[1:] if tail else "}")


def _body(
    prompt: Prompt, settings: ModelSettings, context: RequestContext, input_value: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": settings.model}
    if prompt.instructions is not None:
        body["instructions"] = prompt.instructions
    body["input"] = input_value
    body["tools"] = list(prompt.tools)
    body["tool_choice"] = "auto"
    body["parallel_tool_calls"] = prompt.parallel_tool_calls
    reasoning = _reasoning(settings)
    if reasoning is not None:
        body["reasoning"] = reasoning
    body["store"] = False
    body["stream"] = True
    body["include"] = ["reasoning.encrypted_content"] if reasoning is not None else []
    # One cache key for the whole tree: children share the root's prompt prefix.
    body["prompt_cache_key"] = context.session_id
    text = _text_controls(prompt, settings)
    if text:
        body["text"] = text
    body["client_metadata"] = context.client_metadata(settings)
    return body


def _reasoning(settings: ModelSettings) -> dict[str, Any] | None:
    if settings.reasoning_effort is None and settings.reasoning_summary is None:
        return None
    reasoning: dict[str, Any] = {}
    if settings.reasoning_effort is not None:
        reasoning["effort"] = settings.reasoning_effort
    if settings.reasoning_summary is not None and settings.reasoning_summary != "none":
        reasoning["summary"] = settings.reasoning_summary
    return reasoning


def _text_controls(prompt: Prompt, settings: ModelSettings) -> dict[str, Any]:
    text: dict[str, Any] = {}
    if settings.verbosity is not None:
        text["verbosity"] = settings.verbosity
    if prompt.output_schema is not None:
        text["format"] = {
            "type": "json_schema",
            "strict": True,
            "schema": prompt.output_schema,
            "name": "codex_output_schema",
        }
    return text


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How the engine re-sends a turn's request after a retryable failure."""

    stream_max_retries: int = 5
    base_delay_s: float = 0.2

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        if retry_after_s is not None:
            return min(retry_after_s, MAX_RETRY_WAIT_S)
        return min(self.base_delay_s * 2.0 ** max(0, attempt - 1), MAX_RETRY_WAIT_S)
