"""Builders for OpenAI Responses streaming events, as plain dicts, plus SSE encoders.

Item builders (`message`, `function_call`, ...) return output items as the API sends them in
`response.output_item.done`. Event builders wrap them or carry deltas. The whole-turn scripts
(`assistant_reply`, `tool_calls`) produce the sequence a real server sends for one response:
created, then for each item added (in its in-progress form), deltas, done, and finally completed.

    server.expect_sse("/v1/responses", assistant_reply("Hello!"))
    server.expect_sse("/v1/responses", tool_calls(function_call("exec_command", '{"cmd":"ls"}')))
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Event = dict[str, Any]
Item = dict[str, Any]

# ---------------------------------------------------------------------------------------------
# Output items


def message(text: str, id: str = "msg_1") -> Item:
    """A completed assistant message with one `output_text` part."""
    return {
        "type": "message",
        "id": id,
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def function_call(
    name: str, arguments: str, call_id: str = "call_1", id: str | None = None
) -> Item:
    """A function tool call; `arguments` is the JSON text the model produced."""
    return {
        "type": "function_call",
        "id": id or f"fc_{call_id}",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": "completed",
    }


def custom_tool_call(name: str, input: str, call_id: str = "call_1", id: str | None = None) -> Item:
    """A freeform (custom) tool call such as `apply_patch` with a Lark grammar."""
    return {
        "type": "custom_tool_call",
        "id": id or f"ctc_{call_id}",
        "call_id": call_id,
        "name": name,
        "input": input,
        "status": "completed",
    }


def reasoning(
    summary_text: str | Sequence[str] = "",
    encrypted_content: str | None = None,
    id: str = "rs_1",
) -> Item:
    """A reasoning item; a list of strings gives several summary parts."""
    parts = [summary_text] if isinstance(summary_text, str) else list(summary_text)
    item: Item = {
        "type": "reasoning",
        "id": id,
        "summary": [{"type": "summary_text", "text": part} for part in parts if part],
    }
    if encrypted_content is not None:
        item["encrypted_content"] = encrypted_content
    return item


def web_search_call(query: str, id: str = "ws_1") -> Item:
    """A hosted web search the provider ran on the model's behalf."""
    return {
        "type": "web_search_call",
        "id": id,
        "status": "completed",
        "action": {"type": "search", "query": query},
    }


# ---------------------------------------------------------------------------------------------
# Stream events


def _response(response_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"id": response_id, "object": "response", "status": status, "output": [], **extra}


def usage(
    input_tokens: int = 10,
    cached_tokens: int = 0,
    output_tokens: int = 5,
    reasoning_tokens: int = 0,
) -> dict[str, Any]:
    """The `usage` object of a finished response."""
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached_tokens},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }


def response_created(response_id: str = "resp_1") -> Event:
    return {"type": "response.created", "response": _response(response_id, "in_progress")}


def response_in_progress(response_id: str = "resp_1") -> Event:
    return {"type": "response.in_progress", "response": _response(response_id, "in_progress")}


def output_item_added(item: Item, output_index: int = 0) -> Event:
    return {"type": "response.output_item.added", "output_index": output_index, "item": item}


def output_item_done(item: Item, output_index: int = 0) -> Event:
    return {"type": "response.output_item.done", "output_index": output_index, "item": item}


def output_text_delta(
    delta: str, item_id: str = "msg_1", output_index: int = 0, content_index: int = 0
) -> Event:
    return {
        "type": "response.output_text.delta",
        "item_id": item_id,
        "output_index": output_index,
        "content_index": content_index,
        "delta": delta,
    }


def reasoning_summary_delta(
    delta: str, item_id: str = "rs_1", output_index: int = 0, summary_index: int = 0
) -> Event:
    return {
        "type": "response.reasoning_summary_text.delta",
        "item_id": item_id,
        "output_index": output_index,
        "summary_index": summary_index,
        "delta": delta,
    }


def function_call_arguments_delta(delta: str, item_id: str, output_index: int = 0) -> Event:
    return {
        "type": "response.function_call_arguments.delta",
        "item_id": item_id,
        "output_index": output_index,
        "delta": delta,
    }


def custom_tool_call_input_delta(delta: str, item_id: str, output_index: int = 0) -> Event:
    return {
        "type": "response.custom_tool_call_input.delta",
        "item_id": item_id,
        "output_index": output_index,
        "delta": delta,
    }


def completed(
    response_id: str = "resp_1",
    input_tokens: int = 10,
    cached_tokens: int = 0,
    output_tokens: int = 5,
    reasoning_tokens: int = 0,
    *,
    output: Sequence[Item] = (),
) -> Event:
    """The terminal success event; `usage` follows the Responses API shape."""
    tokens = usage(input_tokens, cached_tokens, output_tokens, reasoning_tokens)
    response = _response(response_id, "completed", usage=tokens)
    response["output"] = list(output)
    return {"type": "response.completed", "response": response}


def incomplete(reason: str = "max_output_tokens", response_id: str = "resp_1") -> Event:
    """The terminal event of a response cut short (e.g. by the output token limit)."""
    response = _response(
        response_id, "incomplete", incomplete_details={"reason": reason}, usage=usage()
    )
    return {"type": "response.incomplete", "response": response}


def failed(
    code: str = "server_error",
    message: str = "The server had an error while processing your request.",
    response_id: str = "resp_1",
) -> Event:
    """The terminal failure event; the error sits at `response.error` as in the real API."""
    error = {"code": code, "message": message}
    return {"type": "response.failed", "response": _response(response_id, "failed", error=error)}


# ---------------------------------------------------------------------------------------------
# Whole-turn scripts

_WORDS = re.compile(r"\S+\s*|\s+")


def text_pieces(text: str) -> list[str]:
    """Split text the way a model streams it: word by word, keeping the whitespace."""
    return _WORDS.findall(text)


def _in_progress(item: Item) -> Item:
    """The form an item takes in `output_item.added`, before its content has streamed."""
    kind = item.get("type")
    if kind == "reasoning":
        return {**item, "summary": []}  # reasoning items carry no status
    started = {**item, "status": "in_progress"}
    if kind == "message":
        started["content"] = []
    elif kind == "function_call":
        started["arguments"] = ""
    elif kind == "custom_tool_call":
        started["input"] = ""
    return started


def _deltas(item: Item, index: int) -> list[Event]:
    kind, item_id = item.get("type"), item.get("id", "")
    if kind == "message":
        text = "".join(part.get("text", "") for part in item.get("content", []))
        return [output_text_delta(piece, item_id, index) for piece in text_pieces(text)]
    if kind == "function_call":
        return [function_call_arguments_delta(item["arguments"], item_id, index)]
    if kind == "custom_tool_call":
        return [custom_tool_call_input_delta(item["input"], item_id, index)]
    if kind == "reasoning":
        return [
            reasoning_summary_delta(piece, item_id, index, summary_index)
            for summary_index, part in enumerate(item.get("summary", []))
            for piece in text_pieces(part["text"])
        ]
    return []


def stream_items(items: Iterable[Item], response_id: str = "resp_1") -> list[Event]:
    """The full event sequence of one response that outputs `items`, in order."""
    items = list(items)
    events: list[Event] = [response_created(response_id), response_in_progress(response_id)]
    for index, item in enumerate(items):
        events.append(output_item_added(_in_progress(item), index))
        events.extend(_deltas(item, index))
        events.append(output_item_done(item, index))
    events.append(completed(response_id, output=items))
    return events


def assistant_reply(text: str, response_id: str = "resp_1", item_id: str = "msg_1") -> list[Event]:
    """A turn in which the model answers with one message, streamed word by word."""
    return stream_items([message(text, id=item_id)], response_id)


def tool_calls(*items: Item, response_id: str = "resp_1") -> list[Event]:
    """A turn in which the model outputs `items` (tool calls, possibly reasoning first)."""
    return stream_items(items, response_id)


# ---------------------------------------------------------------------------------------------
# Chat Completions chunks


def chat_chunk(
    content: str | None = None,
    *,
    role: str | None = None,
    tool_calls: Sequence[Mapping[str, Any]] | None = None,
    finish_reason: str | None = None,
    usage: Mapping[str, Any] | None = None,
    id: str = "chatcmpl_1",
    model: str = "fake-model",
) -> dict[str, Any]:
    """One `chat.completion.chunk` with a single choice carrying the given delta."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    if tool_calls is not None:
        delta["tool_calls"] = [dict(call) for call in tool_calls]
    chunk: dict[str, Any] = {
        "id": id,
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    if usage is not None:
        chunk["usage"] = dict(usage)
    return chunk


# ---------------------------------------------------------------------------------------------
# Encoders


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def encode_sse_event(event: Mapping[str, Any]) -> bytes:
    """One `event: <type>\\ndata: <json>\\n\\n` frame."""
    return f"event: {event['type']}\ndata: {_json(event)}\n\n".encode()


def encode_sse(events: Iterable[Mapping[str, Any]]) -> bytes:
    """Responses-style SSE frames, each named by the event's `type`."""
    return b"".join(encode_sse_event(event) for event in events)


def encode_chat_frame(chunk: Mapping[str, Any]) -> bytes:
    """One Chat Completions frame: `data: <json>\\n\\n`, no event name."""
    return f"data: {_json(chunk)}\n\n".encode()


CHAT_DONE_FRAME = b"data: [DONE]\n\n"


def encode_chat_stream(chunks: Iterable[Mapping[str, Any]], done: bool = True) -> bytes:
    """Chat Completions frames, ending with `data: [DONE]` unless `done` is False."""
    body = b"".join(encode_chat_frame(chunk) for chunk in chunks)
    return body + CHAT_DONE_FRAME if done else body
