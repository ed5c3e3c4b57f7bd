"""Anthropic Messages stream events → the exact Responses streaming events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pycodex.providers.anthropic import MessagesStreamTranslator, responses_to_messages_request
from pycodex.providers.stream_writer import failed_event

Event = dict[str, Any]


def numbered(events: Sequence[Event], start: int = 0) -> list[Event]:
    return [{**event, "sequence_number": start + i} for i, event in enumerate(events)]


def response(status: str, output: Sequence[Event] = (), usage: Any = None, **extra: Any) -> Event:
    return {
        "id": "resp_a",
        "object": "response",
        "created_at": 0,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "model": "claude",
        "output": list(output),
        "usage": usage,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        **extra,
    }


OPENING = [
    {"type": "response.created", "response": response("in_progress")},
    {"type": "response.in_progress", "response": response("in_progress")},
]


def message_start(input_tokens: int = 10, cache_read: int = 0, cache_write: int = 0) -> Event:
    usage = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens": 1,
    }
    message = {"id": "msg_x", "type": "message", "role": "assistant", "content": [], "usage": usage}
    return {"type": "message_start", "message": message}


def block_start(index: int, block: Event) -> Event:
    return {"type": "content_block_start", "index": index, "content_block": block}


def block_delta(index: int, delta: Event) -> Event:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def block_stop(index: int) -> Event:
    return {"type": "content_block_stop", "index": index}


def message_delta(stop_reason: str, output_tokens: int) -> Event:
    return {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": output_tokens},
    }


def translate(events: Sequence[Event], custom: Sequence[str] = ()) -> list[Event]:
    translator = MessagesStreamTranslator("resp_a", "claude", custom)
    out = translator.start()
    for event in events:
        out += translator.feed(str(event["type"]), event)
    return out + translator.finish()


def usage(inp: int, cached: int, out: int, cache_write: int = 0) -> Event:
    return {
        "input_tokens": inp,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": cache_write},
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": inp + out,
    }


def test_text_with_cache_usage() -> None:
    events = [
        message_start(input_tokens=5, cache_read=100, cache_write=20),
        block_start(0, {"type": "text", "text": ""}),
        {"type": "ping"},
        block_delta(0, {"type": "text_delta", "text": "Hi"}),
        block_stop(0),
        message_delta("end_turn", 7),
        {"type": "message_stop"},
    ]
    where = {"item_id": "msg_a_0", "output_index": 0, "content_index": 0}
    part = {"type": "output_text", "text": "Hi", "annotations": []}
    started = {"id": "msg_a_0", "type": "message", "status": "in_progress", "role": "assistant"}
    final = {**started, "status": "completed", "content": [part]}
    assert translate(events) == numbered(
        [
            *OPENING,
            {"type": "response.output_item.added", "output_index": 0, "item": {**started, "content": []}},
            {"type": "response.content_part.added", **where, "part": {**part, "text": ""}},
            {"type": "response.output_text.delta", **where, "delta": "Hi", "logprobs": []},
            {"type": "response.output_text.done", **where, "text": "Hi", "logprobs": []},
            {"type": "response.content_part.done", **where, "part": part},
            {"type": "response.output_item.done", "output_index": 0, "item": final},
            {"type": "response.completed", "response": response("completed", [final], usage(125, 100, 7, cache_write=20))},
        ]
    )  # fmt: skip


THINKING_THEN_TOOL = [
    message_start(),
    block_start(0, {"type": "thinking", "thinking": ""}),
    block_delta(0, {"type": "thinking_delta", "thinking": "Need ls."}),
    block_delta(0, {"type": "signature_delta", "signature": "EqQBsig"}),
    block_stop(0),
    block_start(1, {"type": "tool_use", "id": "toolu_1", "name": "exec_command", "input": {}}),
    block_delta(1, {"type": "input_json_delta", "partial_json": ""}),
    block_delta(1, {"type": "input_json_delta", "partial_json": '{"cmd": "ls"}'}),
    block_stop(1),
    message_delta("tool_use", 30),
    {"type": "message_stop"},
]


def test_thinking_with_signature_then_tool_use() -> None:
    rs = {"item_id": "rs_a_0", "output_index": 0, "content_index": 0}
    fc = {"item_id": "fc_a_1", "output_index": 1}
    thinking = {
        "id": "rs_a_0",
        "type": "reasoning",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": "Need ls."}],
        "encrypted_content": "EqQBsig",
    }
    call = {
        "id": "fc_a_1",
        "type": "function_call",
        "status": "completed",
        "call_id": "toolu_1",
        "name": "exec_command",
        "arguments": '{"cmd": "ls"}',
    }
    assert translate(THINKING_THEN_TOOL) == numbered(
        [
            *OPENING,
            {"type": "response.output_item.added", "output_index": 0, "item": {"id": "rs_a_0", "type": "reasoning", "summary": [], "content": []}},
            {"type": "response.content_part.added", **rs, "part": {"type": "reasoning_text", "text": ""}},
            {"type": "response.reasoning_text.delta", **rs, "delta": "Need ls."},
            {"type": "response.reasoning_text.done", **rs, "text": "Need ls."},
            {"type": "response.content_part.done", **rs, "part": {"type": "reasoning_text", "text": "Need ls."}},
            {"type": "response.output_item.done", "output_index": 0, "item": thinking},
            {"type": "response.output_item.added", "output_index": 1, "item": {**call, "status": "in_progress", "arguments": ""}},
            {"type": "response.function_call_arguments.delta", **fc, "delta": '{"cmd": "ls"}'},
            {"type": "response.function_call_arguments.done", **fc, "name": "exec_command", "arguments": '{"cmd": "ls"}'},
            {"type": "response.output_item.done", "output_index": 1, "item": call},
            {"type": "response.completed", "response": response("completed", [thinking, call], usage(10, 0, 30))},
        ]
    )  # fmt: skip


def test_thinking_signature_round_trips_into_the_next_request() -> None:
    output = translate(THINKING_THEN_TOOL)[-1]["response"]["output"]
    result = {"type": "function_call_output", "call_id": "toolu_1", "output": "a.py"}
    body = {
        "model": "claude",
        "input": [{"role": "user", "content": "list"}, *output, result],
        "reasoning": {"effort": "low"},
    }
    request = responses_to_messages_request(body)
    assert request.warnings == ()
    assert request.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "list"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Need ls.", "signature": "EqQBsig"},
                {"type": "tool_use", "id": "toolu_1", "name": "exec_command", "input": {"cmd": "ls"}},
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.py"}]},
    ]  # fmt: skip


def test_custom_tool_use_is_unwrapped_and_whole_input_blocks_are_streamed() -> None:
    events = [
        message_start(),
        block_start(0, {"type": "tool_use", "id": "t1", "name": "apply_patch", "input": {}}),
        block_delta(0, {"type": "input_json_delta", "partial_json": '{"input": "*** Begin'}),
        block_delta(0, {"type": "input_json_delta", "partial_json": ' Patch"}'}),
        block_stop(0),
        block_start(1, {"type": "tool_use", "id": "t2", "name": "f", "input": {"a": 1}}),
        block_stop(1),
        message_delta("tool_use", 3),
    ]
    output = translate(events, custom=["apply_patch"])[-1]["response"]["output"]
    assert output == [
        {
            "id": "ctc_a_0",
            "type": "custom_tool_call",
            "status": "completed",
            "call_id": "t1",
            "name": "apply_patch",
            "input": "*** Begin Patch",
        },
        {
            "id": "fc_a_1",
            "type": "function_call",
            "status": "completed",
            "call_id": "t2",
            "name": "f",
            "arguments": '{"a": 1}',
        },
    ]


def test_max_tokens_is_incomplete() -> None:
    events = [
        message_start(),
        block_start(0, {"type": "text", "text": ""}),
        block_delta(0, {"type": "text_delta", "text": "Hal"}),
        message_delta("max_tokens", 4),
    ]
    terminal = translate(events)[-1]
    assert terminal["type"] == "response.incomplete"
    assert terminal["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert terminal["response"]["output"][0]["status"] == "incomplete"


def test_thinking_only_is_reasoning_only_and_nothing_was_emitted() -> None:
    translator = MessagesStreamTranslator("resp_a", "claude")
    translator.start()
    events: list[Event] = []
    for event in [*THINKING_THEN_TOOL[:5], message_delta("end_turn", 9)]:
        events += translator.feed(str(event["type"]), event)
    assert events == []
    assert translator.reasoning_only is True


def test_error_event_fails_with_a_mapped_code() -> None:
    translator = MessagesStreamTranslator("resp_a", "claude")
    translator.start()
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    expected = failed_event("server_is_overloaded", "Overloaded", "resp_a", 2, "claude")
    assert translator.feed("error", error) == [expected]
    assert translator.finish() == []
