"""Chat Completions chunks → the exact Responses streaming events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pycodex.providers.chat import ChatStreamTranslator, failed_event
from support.sse_builders import chat_chunk

Event = dict[str, Any]


# --- expected events, spelled out from the Responses API reference ---------------------------


def numbered(events: Sequence[Event], start: int = 0) -> list[Event]:
    return [{**event, "sequence_number": start + i} for i, event in enumerate(events)]


def response(status: str, output: Sequence[Event] = (), usage: Any = None, **extra: Any) -> Event:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 0,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "model": "m",
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


def usage(inp: int, cached: int, out: int, reasoning: int, cache_write: int = 0) -> Event:
    return {
        "input_tokens": inp,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": cache_write},
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": inp + out,
    }


def message(item_id: str, text: str, status: str = "completed") -> Event:
    content = [{"type": "output_text", "text": text, "annotations": []}]
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content if status != "in_progress" else [],
    }


def message_events(item_id: str, index: int, pieces: Sequence[str], status: str) -> list[Event]:
    where = {"item_id": item_id, "output_index": index, "content_index": 0}
    text = "".join(pieces)
    return [
        {"type": "response.output_item.added", "output_index": index, "item": message(item_id, "", "in_progress")},
        {"type": "response.content_part.added", **where, "part": {"type": "output_text", "text": "", "annotations": []}},
        *[{"type": "response.output_text.delta", **where, "delta": p, "logprobs": []} for p in pieces],
        {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **where, "part": {"type": "output_text", "text": text, "annotations": []}},
        {"type": "response.output_item.done", "output_index": index, "item": message(item_id, text, status)},
    ]  # fmt: skip


def reasoning(item_id: str, text: str, signature: str | None = None) -> Event:
    item: Event = {"id": item_id, "type": "reasoning", "summary": []}
    item["content"] = [{"type": "reasoning_text", "text": text}] if text else []
    if signature is not None:
        item["encrypted_content"] = signature
    return item


def reasoning_events(item_id: str, index: int, pieces: Sequence[str]) -> list[Event]:
    where = {"item_id": item_id, "output_index": index, "content_index": 0}
    text = "".join(pieces)
    return [
        {"type": "response.output_item.added", "output_index": index, "item": reasoning(item_id, "")},
        {"type": "response.content_part.added", **where, "part": {"type": "reasoning_text", "text": ""}},
        *[{"type": "response.reasoning_text.delta", **where, "delta": p} for p in pieces],
        {"type": "response.reasoning_text.done", **where, "text": text},
        {"type": "response.content_part.done", **where, "part": {"type": "reasoning_text", "text": text}},
        {"type": "response.output_item.done", "output_index": index, "item": reasoning(item_id, text)},
    ]  # fmt: skip


def call(item_id: str, call_id: str, name: str, arguments: str, status: str) -> Event:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def custom_call(item_id: str, call_id: str, name: str, text: str, status: str) -> Event:
    return {
        "id": item_id,
        "type": "custom_tool_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "input": text,
    }


def translate(chunks: Sequence[Event], custom: Sequence[str] = ()) -> list[Event]:
    translator = ChatStreamTranslator("resp_1", "m", custom)
    events = translator.start()
    for chunk in chunks:
        events += translator.feed(chunk)
    return events + translator.finish()


USAGE_CHUNK = {
    "id": "chatcmpl_1",
    "object": "chat.completion.chunk",
    "choices": [],
    "usage": {
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "total_tokens": 120,
        "prompt_tokens_details": {"cached_tokens": 64},
        "completion_tokens_details": {"reasoning_tokens": 7},
    },
}


def test_text_only_with_usage() -> None:
    chunks = [
        chat_chunk("", role="assistant"),
        chat_chunk("Hel"),
        chat_chunk("lo"),
        chat_chunk(finish_reason="stop"),
        USAGE_CHUNK,
    ]
    final = message("msg_1_0", "Hello")
    assert translate(chunks) == numbered(
        [
            *OPENING,
            *message_events("msg_1_0", 0, ["Hel", "lo"], "completed"),
            {
                "type": "response.completed",
                "response": response("completed", [final], usage(100, 64, 20, 7)),
            },
        ]
    )


def tool_delta(
    index: int, arguments: str, call_id: str | None = None, name: str | None = None
) -> Event:
    call: Event = {"index": index}
    if call_id is not None:
        call.update(id=call_id, type="function")
    function: Event = {"arguments": arguments}
    if name is not None:
        function["name"] = name
    call["function"] = function
    return chat_chunk(tool_calls=[call])


def test_two_interleaved_tool_calls() -> None:
    chunks = [
        chat_chunk(role="assistant"),
        tool_delta(0, "", "call_a", "exec_command"),
        tool_delta(1, '{"cmd":', "call_b", "view_image"),
        tool_delta(0, '{"cmd":"ls"}'),
        tool_delta(1, '"x"}'),
        chat_chunk(finish_reason="tool_calls"),
    ]
    a_done = call("fc_1_0", "call_a", "exec_command", '{"cmd":"ls"}', "completed")
    b_done = call("fc_1_1", "call_b", "view_image", '{"cmd":"x"}', "completed")
    a = {"item_id": "fc_1_0", "output_index": 0}
    b = {"item_id": "fc_1_1", "output_index": 1}
    assert translate(chunks) == numbered(
        [
            *OPENING,
            {"type": "response.output_item.added", "output_index": 0, "item": call("fc_1_0", "call_a", "exec_command", "", "in_progress")},
            {"type": "response.output_item.added", "output_index": 1, "item": call("fc_1_1", "call_b", "view_image", "", "in_progress")},
            {"type": "response.function_call_arguments.delta", **b, "delta": '{"cmd":'},
            {"type": "response.function_call_arguments.delta", **a, "delta": '{"cmd":"ls"}'},
            {"type": "response.function_call_arguments.delta", **b, "delta": '"x"}'},
            {"type": "response.function_call_arguments.done", **a, "name": "exec_command", "arguments": '{"cmd":"ls"}'},
            {"type": "response.output_item.done", "output_index": 0, "item": a_done},
            {"type": "response.function_call_arguments.done", **b, "name": "view_image", "arguments": '{"cmd":"x"}'},
            {"type": "response.output_item.done", "output_index": 1, "item": b_done},
            {"type": "response.completed", "response": response("completed", [a_done, b_done])},
        ]
    )  # fmt: skip


def test_custom_tool_call_is_unwrapped_and_raw_arguments_kept() -> None:
    chunks = [
        tool_delta(0, '{"input": "*** Begin', "call_p", "apply_patch"),
        tool_delta(0, '\\n*** End Patch"}'),
        tool_delta(1, "not json", "call_q", "apply_patch"),
        chat_chunk(finish_reason="tool_calls"),
    ]
    patch = "*** Begin\n*** End Patch"
    p_done = custom_call("ctc_1_0", "call_p", "apply_patch", patch, "completed")
    q_done = custom_call("ctc_1_1", "call_q", "apply_patch", "not json", "completed")
    p = {"item_id": "ctc_1_0", "output_index": 0}
    q = {"item_id": "ctc_1_1", "output_index": 1}
    assert translate(chunks, custom=["apply_patch"]) == numbered(
        [
            *OPENING,
            {"type": "response.output_item.added", "output_index": 0, "item": custom_call("ctc_1_0", "call_p", "apply_patch", "", "in_progress")},
            {"type": "response.output_item.added", "output_index": 1, "item": custom_call("ctc_1_1", "call_q", "apply_patch", "", "in_progress")},
            {"type": "response.custom_tool_call_input.delta", **p, "delta": patch},
            {"type": "response.custom_tool_call_input.done", **p, "input": patch},
            {"type": "response.output_item.done", "output_index": 0, "item": p_done},
            {"type": "response.custom_tool_call_input.delta", **q, "delta": "not json"},
            {"type": "response.custom_tool_call_input.done", **q, "input": "not json"},
            {"type": "response.output_item.done", "output_index": 1, "item": q_done},
            {"type": "response.completed", "response": response("completed", [p_done, q_done])},
        ]
    )  # fmt: skip


def reasoning_chunk(text: str, field: str = "reasoning_content") -> Event:
    return {"choices": [{"index": 0, "delta": {field: text}, "finish_reason": None}]}


def test_reasoning_then_content_is_held_until_the_answer_starts() -> None:
    translator = ChatStreamTranslator("resp_1", "m")
    events = translator.start()
    assert translator.feed(reasoning_chunk("Let me ")) == []
    assert translator.feed(reasoning_chunk("think", field="reasoning")) == []
    events += translator.feed(chat_chunk("Yes"))
    events += translator.feed(chat_chunk(finish_reason="stop"))
    events += translator.finish()
    assert translator.reasoning_only is False
    final = [reasoning("rs_1_0", "Let me think"), message("msg_1_1", "Yes")]
    assert events == numbered(
        [
            *OPENING,
            *reasoning_events("rs_1_0", 0, ["Let me ", "think"]),
            *message_events("msg_1_1", 1, ["Yes"], "completed"),
            {"type": "response.completed", "response": response("completed", final)},
        ]
    )


def test_reasoning_only_is_retried_once_then_fails() -> None:
    translator = ChatStreamTranslator("resp_1", "m")
    events = translator.start()
    for _attempt in range(2):
        events += translator.feed(reasoning_chunk("hmm"))
        events += translator.feed(chat_chunk(finish_reason="stop"))
        assert translator.reasoning_only is True
        translator.retry()
    events += translator.fail("model_output_invalid", "the model answered with reasoning only")
    assert translator.finished is True
    assert events == [
        *numbered(OPENING),
        failed_event(
            "model_output_invalid", "the model answered with reasoning only", "resp_1", 2, "m"
        ),
    ]


def test_reasoning_only_retry_that_answers_continues_the_sequence() -> None:
    translator = ChatStreamTranslator("resp_1", "m")
    events = translator.start() + translator.feed(reasoning_chunk("hmm"))
    assert translator.reasoning_only is True
    translator.retry()
    events += translator.feed(chat_chunk("Hi")) + translator.finish()
    assert events == numbered(
        [
            *OPENING,
            *message_events("msg_1_0", 0, ["Hi"], "completed"),
            {"type": "response.completed", "response": response("completed", [message("msg_1_0", "Hi")])},
        ]
    )  # fmt: skip


def test_length_finish_is_incomplete_with_open_items_incomplete() -> None:
    chunks = [chat_chunk("Hel"), chat_chunk(finish_reason="length")]
    final = message("msg_1_0", "Hel", "incomplete")
    terminal = response("incomplete", [final], incomplete_details={"reason": "max_output_tokens"})
    assert translate(chunks) == numbered(
        [
            *OPENING,
            *message_events("msg_1_0", 0, ["Hel"], "incomplete"),
            {"type": "response.incomplete", "response": terminal},
        ]
    )


def test_content_filter_finish_is_incomplete() -> None:
    events = translate([chat_chunk(finish_reason="content_filter")])
    assert events[-1] == {
        "type": "response.incomplete",
        "response": response("incomplete", incomplete_details={"reason": "content_filter"}),
        "sequence_number": 2,
    }


def test_text_after_tool_calls_opens_a_new_message_and_closes_in_output_order() -> None:
    chunks = [
        chat_chunk("Let me look."),
        tool_delta(0, "{}", "c1", "f"),
        chat_chunk("More."),
        chat_chunk(finish_reason="tool_calls"),
    ]
    events = translate(chunks)
    done = [e["item"]["id"] for e in events if e["type"] == "response.output_item.done"]
    assert done == ["msg_1_0", "fc_1_1", "msg_1_2"]


def test_call_whose_name_comes_after_its_id_opens_with_the_arguments_so_far() -> None:
    chunks = [
        chat_chunk(tool_calls=[{"index": 0, "id": "c1", "function": {"arguments": '{"a"'}}]),
        chat_chunk(tool_calls=[{"index": 0, "function": {"name": "f", "arguments": ":1}"}}]),
    ]
    translator = ChatStreamTranslator("resp_1", "m")
    translator.start()
    assert translator.feed(chunks[0]) == []
    where = {"item_id": "fc_1_0", "output_index": 0}
    assert translator.feed(chunks[1]) == numbered(
        [
            {"type": "response.output_item.added", "output_index": 0, "item": call("fc_1_0", "c1", "f", "", "in_progress")},
            {"type": "response.function_call_arguments.delta", **where, "delta": '{"a":1}'},
        ],
        start=2,
    )  # fmt: skip


def test_error_chunk_fails_the_response() -> None:
    translator = ChatStreamTranslator("resp_1", "m")
    translator.start()
    error = {"error": {"message": "boom", "type": "InternalServerError", "code": 500}}
    assert translator.feed(error) == [failed_event("server_error", "boom", "resp_1", 2, "m")]
    assert translator.finish() == []
