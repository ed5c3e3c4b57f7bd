"""Tests pinning the shapes the SSE builders produce, so every suite scripts the same wire."""

from __future__ import annotations

import json

from pycodex.client.sse import SSEDecoder

from .sse_builders import (
    assistant_reply,
    completed,
    custom_tool_call,
    encode_chat_stream,
    encode_sse,
    failed,
    function_call,
    incomplete,
    message,
    reasoning,
    tool_calls,
    web_search_call,
)


def test_completed_carries_usage_in_responses_shape() -> None:
    event = completed(
        "resp_7", input_tokens=100, cached_tokens=40, output_tokens=8, reasoning_tokens=3
    )
    assert event["type"] == "response.completed"
    assert event["response"]["id"] == "resp_7"
    assert event["response"]["usage"] == {
        "input_tokens": 100,
        "input_tokens_details": {"cached_tokens": 40},
        "output_tokens": 8,
        "output_tokens_details": {"reasoning_tokens": 3},
        "total_tokens": 108,
    }


def test_terminal_failures() -> None:
    assert incomplete()["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    error = failed("rate_limit_exceeded", "slow down")["response"]["error"]
    assert error == {"code": "rate_limit_exceeded", "message": "slow down"}


def test_message_item() -> None:
    assert message("hi") == {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "hi", "annotations": []}],
    }


def test_assistant_reply_streams_words_then_completes() -> None:
    events = assistant_reply("Hello big world", response_id="resp_2")
    kinds = [e["type"] for e in events]
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        *["response.output_text.delta"] * 3,
        "response.output_item.done",
        "response.completed",
    ]
    assert "".join(e["delta"] for e in events if "delta" in e) == "Hello big world"
    assert events[2]["item"]["content"] == []
    assert events[-2]["item"] == message("Hello big world")
    assert events[-1]["response"]["output"] == [message("Hello big world")]
    assert events[-1]["response"]["id"] == "resp_2"


def test_tool_calls_script_streams_each_item_at_its_index() -> None:
    items = [
        reasoning("Thinking it over", encrypted_content="gAAA", id="rs_9"),
        function_call("exec_command", '{"cmd":"ls"}', call_id="call_a"),
        custom_tool_call("apply_patch", "*** Begin Patch\n*** End Patch", call_id="call_b"),
        web_search_call("weather"),
    ]
    events = tool_calls(*items)
    done = [e for e in events if e["type"] == "response.output_item.done"]
    assert [(e["output_index"], e["item"]) for e in done] == list(enumerate(items))
    added = [e["item"] for e in events if e["type"] == "response.output_item.added"]
    assert added[1]["arguments"] == "" and added[2]["input"] == ""
    assert added[0]["summary"] == [] and added[0]["encrypted_content"] == "gAAA"
    deltas = {e["type"]: e for e in events if e["type"].endswith(".delta")}
    assert deltas["response.function_call_arguments.delta"]["item_id"] == "fc_call_a"
    assert deltas["response.function_call_arguments.delta"]["delta"] == '{"cmd":"ls"}'
    assert deltas["response.custom_tool_call_input.delta"]["output_index"] == 2
    assert deltas["response.reasoning_summary_text.delta"]["item_id"] == "rs_9"


def test_encode_sse_round_trips_through_the_decoder() -> None:
    events = assistant_reply("round trip ✓")
    wire = encode_sse(events)
    assert wire.startswith(b"event: response.created\ndata: {")
    decoded = SSEDecoder().feed(wire)
    assert [e.event for e in decoded] == [e["type"] for e in events]
    assert [json.loads(e.data) for e in decoded] == events


def test_encode_chat_stream() -> None:
    assert encode_chat_stream([{"a": 1}]) == b'data: {"a":1}\n\ndata: [DONE]\n\n'
    assert encode_chat_stream([{"a": 1}], done=False) == b'data: {"a":1}\n\n'
