"""Every stream the translators produce is a well-formed Responses event sequence.

Checked for each scenario: `sequence_number` counts up from 0 without gaps; every item is added
before its deltas and its done event, and nothing of an item follows its done; deltas add up to
the done text; output indices are 0, 1, 2, ... in order of `output_item.added`; the terminal
event comes last and lists the finished items; and every event passes the client's own
Responses decoder (`translate_event`) and item parser.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from pycodex.client.responses_stream import TERMINAL_EVENTS, translate_event
from pycodex.protocol.errors import ModelError
from pycodex.protocol.items import parse_item
from pycodex.providers.anthropic import MessagesStreamTranslator
from pycodex.providers.chat import ChatStreamTranslator
from support.sse_builders import chat_chunk

Event = dict[str, Any]

_DELTA_DONE = {
    "response.output_text.delta": ("response.output_text.done", "text"),
    "response.reasoning_text.delta": ("response.reasoning_text.done", "text"),
    "response.function_call_arguments.delta": ("response.function_call_arguments.done", "arguments"),
    "response.custom_tool_call_input.delta": ("response.custom_tool_call_input.done", "input"),
}  # fmt: skip


def run_chat(chunks: Sequence[Event], custom: Sequence[str] = ()) -> list[Event]:
    translator = ChatStreamTranslator("resp_v", "m", custom)
    events = translator.start()
    for chunk in chunks:
        events += translator.feed(chunk)
    return events + translator.finish()


def run_messages(stream: Sequence[Event], custom: Sequence[str] = ()) -> list[Event]:
    translator = MessagesStreamTranslator("resp_v", "m", custom)
    events = translator.start()
    for event in stream:
        events += translator.feed(str(event["type"]), event)
    return events + translator.finish()


def call(index: int, arguments: str, call_id: str = "", name: str = "") -> Event:
    function: Event = {"arguments": arguments}
    if name:
        function["name"] = name
    piece: Event = {"index": index, "function": function}
    if call_id:
        piece["id"] = call_id
    return chat_chunk(tool_calls=[piece])


def block(kind: str, index: int, **fields: Any) -> Event:
    return {"type": kind, "index": index, **fields}


SCENARIOS: dict[str, Callable[[], list[Event]]] = {
    "chat text": lambda: run_chat([chat_chunk("a"), chat_chunk("b"), chat_chunk(finish_reason="stop")]),
    "chat empty": lambda: run_chat([chat_chunk(finish_reason="stop")]),
    "chat reasoning, text, calls": lambda: run_chat(
        [
            {"choices": [{"index": 0, "delta": {"reasoning": "r"}}]},
            chat_chunk("t"),
            call(0, '{"x":', "c0", "f"),
            call(1, "", "c1", "apply_patch"),
            call(0, "1}"),
            call(1, '{"input":"p"}'),
            call(2, "", "c2", "g"),
            chat_chunk("after"),
            chat_chunk(finish_reason="tool_calls"),
        ],
        custom=["apply_patch"],
    ),
    "chat length": lambda: run_chat([call(0, '{"x"', "c", "f"), chat_chunk(finish_reason="length")]),
    "messages thinking, text, tools": lambda: run_messages(
        [
            {"type": "message_start", "message": {"usage": {"input_tokens": 1}}},
            block("content_block_start", 0, content_block={"type": "thinking", "thinking": ""}),
            block("content_block_delta", 0, delta={"type": "thinking_delta", "thinking": "r"}),
            block("content_block_delta", 0, delta={"type": "signature_delta", "signature": "s"}),
            block("content_block_stop", 0),
            block("content_block_start", 1, content_block={"type": "redacted_thinking", "data": "d"}),
            block("content_block_stop", 1),
            block("content_block_start", 2, content_block={"type": "text", "text": ""}),
            block("content_block_delta", 2, delta={"type": "text_delta", "text": "t"}),
            block("content_block_stop", 2),
            block("content_block_start", 3, content_block={"type": "tool_use", "id": "u", "name": "apply_patch"}),
            block("content_block_delta", 3, delta={"type": "input_json_delta", "partial_json": '{"input":"p"}'}),
            block("content_block_stop", 3),
            block("content_block_start", 4, content_block={"type": "tool_use", "id": "v", "name": "f"}),
            block("content_block_stop", 4),
            {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 2}},
            {"type": "message_stop"},
        ],
        custom=["apply_patch"],
    ),
    "messages max_tokens": lambda: run_messages(
        [
            block("content_block_start", 0, content_block={"type": "text", "text": "x"}),
            {"type": "message_delta", "delta": {"stop_reason": "max_tokens"}},
        ]
    ),
}  # fmt: skip


def check_sequence(events: list[Event]) -> None:
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events[:2]] == ["response.created", "response.in_progress"]
    assert events[-1]["type"] in TERMINAL_EVENTS
    assert all(e["type"] not in TERMINAL_EVENTS for e in events[:-1])
    open_items: dict[str, Event] = {}
    done_items: list[Event] = []
    streamed: dict[tuple[str, str], str] = {}
    for event in events[2:-1]:
        kind = event["type"]
        if kind == "response.output_item.added":
            assert event["output_index"] == len(open_items) + len(done_items)
            open_items[event["item"]["id"]] = event
        elif kind == "response.output_item.done":
            assert open_items.pop(event["item"]["id"])["output_index"] == event["output_index"]
            done_items.append(event["item"])
        else:
            added = open_items[event["item_id"]]  # the item is open: added, not yet done
            assert added["output_index"] == event["output_index"]
            if kind in _DELTA_DONE:
                key = (event["item_id"], _DELTA_DONE[kind][0])
                streamed[key] = streamed.get(key, "") + event["delta"]
            elif kind.endswith(".done") and kind != "response.content_part.done":
                field = next(f for d, f in _DELTA_DONE.values() if d == kind)
                assert streamed.get((event["item_id"], kind), "") == event[field]
    assert open_items == {}
    output = events[-1]["response"]["output"]
    assert sorted(output, key=lambda item: item["id"]) == sorted(done_items, key=lambda i: i["id"])


def check_client_accepts(events: list[Event]) -> None:
    for event in events:
        if "item" in event:
            assert parse_item(event["item"]).to_wire() == event["item"]
        if event["type"] == "response.completed":
            assert translate_event(event) is not None
        elif event["type"] in TERMINAL_EVENTS:
            with pytest.raises(ModelError):
                translate_event(event)
        else:
            translate_event(event)  # raises on a malformed event


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_stream_is_a_valid_responses_sequence(name: str) -> None:
    events = SCENARIOS[name]()
    check_sequence(events)
    check_client_accepts(events)
