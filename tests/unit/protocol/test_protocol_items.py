"""Responses API items: parsing, round trips, validation errors, immutability, equality."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from pycodex.protocol.items import (
    CustomToolCall,
    FunctionCall,
    FunctionCallOutput,
    InputImage,
    InputText,
    ItemValidationError,
    Message,
    OutputText,
    Reasoning,
    ReasoningText,
    SummaryText,
    UnknownContent,
    UnknownItem,
    WebSearchCall,
    parse_item,
    parse_items,
    user_message,
)

# Objects as a Responses API server sends them, unknown fields and explicit nulls included.
SERVER_ITEMS: list[dict[str, Any]] = [
    {
        "id": "msg_1",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [
            {"type": "output_text", "text": "Hi", "annotations": [], "logprobs": []},
            {"type": "refusal", "refusal": "no"},
        ],
    },
    {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "Look"}],
        "content": None,
        "encrypted_content": "gAAA",
    },
    {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "hm"}]},
    {
        "type": "function_call",
        "id": "fc_1",
        "status": "completed",
        "name": "shell",
        "arguments": '{"command":["ls"]}',
        "call_id": "call_1",
    },
    {"type": "function_call_output", "call_id": "call_1", "output": "ok"},
    {
        "type": "function_call_output",
        "call_id": "call_2",
        "output": [{"type": "input_image", "image_url": "data:image/png;base64,AA"}],
    },
    {"type": "custom_tool_call", "name": "apply_patch", "input": "*** Begin", "call_id": "c3"},
    {"type": "custom_tool_call_output", "call_id": "c3", "output": "done"},
    {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"query": "q"}},
    {"type": "web_search_call", "id": None},
    {"type": "context_compaction", "encrypted_content": "pcx1.abc", "nested": {"a": [1, 2.5]}},
    {"type": "local_shell_call", "call_id": "c4", "action": {"command": ["ls"]}, "status": None},
]


@pytest.mark.parametrize("data", SERVER_ITEMS, ids=lambda d: str(d["type"]))
def test_server_items_round_trip_exactly(data: dict[str, Any]) -> None:
    item = parse_item(data)
    assert item.to_wire() == data
    assert next(iter(item.to_wire())) == "type"


def test_items_parse_into_their_classes() -> None:
    items = parse_items(SERVER_ITEMS)
    assert [type(item).__name__ for item in items] == [
        "Message",
        "Reasoning",
        "Reasoning",
        "FunctionCall",
        "FunctionCallOutput",
        "FunctionCallOutput",
        "CustomToolCall",
        "CustomToolCallOutput",
        "WebSearchCall",
        "WebSearchCall",
        "UnknownItem",
        "UnknownItem",
    ]


def test_nested_parts_parse_into_part_classes() -> None:
    message, reasoning, with_text = parse_items(SERVER_ITEMS[:3])
    assert isinstance(message, Message)
    assert message.content == [
        OutputText(text="Hi", annotations=[], logprobs=[]),
        UnknownContent(type="refusal", refusal="no"),
    ]
    assert message.text == "Hi"
    assert isinstance(reasoning, Reasoning)
    assert reasoning.summary == [SummaryText(text="Look")] and reasoning.content is None
    assert reasoning.summary_text == "Look"
    assert isinstance(with_text, Reasoning)
    assert with_text.content == [ReasoningText(text="hm")]


def test_unknown_items_and_fields_are_kept() -> None:
    unknown = parse_item(SERVER_ITEMS[-2])
    assert isinstance(unknown, UnknownItem)
    assert unknown.type == "context_compaction"
    assert unknown.extra == {"encrypted_content": "pcx1.abc", "nested": {"a": [1, 2.5]}}
    call = parse_item(SERVER_ITEMS[3])
    assert isinstance(call, FunctionCall)
    assert call.id == "fc_1" and call.extra == {"status": "completed"}
    # declared fields first, in declaration order, then the unknown ones as they came
    assert list(call.to_wire()) == ["type", "name", "arguments", "call_id", "id", "status"]
    with pytest.raises(TypeError):
        call.extra["status"] = "changed"  # type: ignore[index]


def test_fields_left_out_stay_out_and_explicit_none_is_sent() -> None:
    call = FunctionCall(name="shell", arguments="{}", call_id="c1")
    assert call.id is None
    assert call.to_wire() == {
        "type": "function_call",
        "name": "shell",
        "arguments": "{}",
        "call_id": "c1",
    }
    with_null = FunctionCall(name="shell", arguments="{}", call_id="c1", id=None)
    assert with_null.to_wire()["id"] is None
    assert Reasoning(id="rs_1").to_wire() == {"type": "reasoning", "id": "rs_1"}
    assert Reasoning().summary == []
    assert user_message("hi", ["data:x"]).to_wire() == {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_image", "image_url": "data:x"},
            {"type": "input_text", "text": "hi"},
        ],
    }


def test_constructors_take_dict_parts_and_unknown_fields() -> None:
    message = Message(role="user", content=[{"type": "input_text", "text": "a"}], status="done")  # type: ignore[list-item]
    assert message.content == [InputText(text="a")]
    assert message.to_wire()["status"] == "done"
    assert Message(type="message", role="user", content=[]) == Message(role="user", content=[])


def test_to_wire_returns_fresh_data() -> None:
    output = [{"type": "input_text", "text": "x"}]
    item = FunctionCallOutput(call_id="c", output=output)
    output[0]["text"] = "changed by the caller"
    wire = item.to_wire()
    wire["output"][0]["text"] = "changed by a consumer"
    assert item.to_wire()["output"] == [{"type": "input_text", "text": "x"}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"type": "function_call", "name": "shell", "arguments": "{}"},
            "invalid function_call item: field 'call_id' is required",
        ),
        (
            {"type": "function_call", "name": 1, "arguments": "{}", "call_id": "c"},
            "invalid function_call item: field 'name' must be a string, got number",
        ),
        (
            {"type": "message", "role": "user", "content": "hi"},
            "invalid message item: field 'content' must be a list, got string",
        ),
        (
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": None}]},
            "invalid message item: field 'content[0].text' must be a string, got null",
        ),
        (
            {"type": "message", "role": "user", "content": [{"text": "no type"}]},
            "invalid message item: field 'content[0].type' is required",
        ),
        (
            {"type": "message", "role": "user", "content": ["hi"]},
            "invalid message item: field 'content[0]' must be an object, got string",
        ),
        (
            {"type": "reasoning", "summary": [{"type": "reasoning_text", "text": "x"}]},
            "invalid reasoning item: field 'summary[0].type' must be 'summary_text', "
            "got 'reasoning_text'",
        ),
        (
            {"type": "reasoning", "summary": None},
            "invalid reasoning item: field 'summary' must be a list, got null",
        ),
        (
            {"type": "function_call_output", "call_id": "c", "output": {"text": "x"}},
            "invalid function_call_output item: field 'output' must be a string or a list, "
            "got object",
        ),
        (
            {"type": "custom_tool_call_output", "call_id": "c", "output": ["x"]},
            "invalid custom_tool_call_output item: field 'output[0]' must be an object, got string",
        ),
        (
            {"type": "web_search_call", "action": "search"},
            "invalid web_search_call item: field 'action' must be an object or null, got string",
        ),
        ({"id": "x"}, "invalid response item: field 'type' is required"),
        ({"type": 7}, "invalid response item: field 'type' must be a string, got number"),
        ([], "invalid response item: must be an object, got list"),
    ],
)
def test_invalid_items_raise_one_clear_error(data: Any, message: str) -> None:
    with pytest.raises(ItemValidationError) as caught:
        parse_item(data)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_error_carries_its_parts() -> None:
    with pytest.raises(ItemValidationError) as caught:
        parse_items([SERVER_ITEMS[0], {"type": "custom_tool_call", "name": "x", "input": "y"}])
    err = caught.value
    assert (err.owner, err.field, err.problem) == (
        "custom_tool_call item at index 1",
        "call_id",
        "is required",
    )


def test_constructors_check_types_too() -> None:
    with pytest.raises(ItemValidationError, match="field 'call_id' must be a string, got number"):
        CustomToolCall(name="x", input="y", call_id=3)  # type: ignore[arg-type]
    with pytest.raises(ItemValidationError, match="field 'type' must be 'input_text'"):
        InputText(type="output_text", text="x")
    with pytest.raises(ItemValidationError, match="field 'detail' must be a string or null"):
        InputImage(image_url="u", detail=2)  # type: ignore[arg-type]


def test_items_are_frozen() -> None:
    call = FunctionCall(name="shell", arguments="{}", call_id="c1")
    with pytest.raises(AttributeError, match="frozen"):
        call.name = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="frozen"):
        del call.name
    with pytest.raises(AttributeError):
        call.new_field = 1


def test_equality_hash_and_repr() -> None:
    one = FunctionCall(name="shell", arguments="{}", call_id="c1")
    assert one == FunctionCall(name="shell", arguments="{}", call_id="c1", id=None)
    assert one != FunctionCall(name="shell", arguments="{}", call_id="c2")
    assert one != CustomToolCall(name="shell", input="{}", call_id="c1")
    assert UnknownItem(type="x", a=1) != UnknownItem(type="x", a=2)
    assert hash(one) == hash(FunctionCall(name="shell", arguments="{}", call_id="c1"))
    assert repr(one) == (
        "FunctionCall(type='function_call', namespace=None, name='shell', arguments='{}', "
        "call_id='c1', id=None)"
    )
    assert repr(UnknownItem(type="x", a=1)) == "UnknownItem(type='x', a=1)"


def test_copy_and_pickle_keep_everything() -> None:
    item = parse_item(SERVER_ITEMS[0])
    for clone in (copy.copy(item), copy.deepcopy(item), pickle.loads(pickle.dumps(item))):
        assert clone == item and clone.to_wire() == SERVER_ITEMS[0]
    assert isinstance(item, Message)
    deep = copy.deepcopy(item)
    assert isinstance(deep, Message) and deep.content is not item.content


def test_parse_item_returns_items_as_they_are() -> None:
    item = WebSearchCall(action={"query": "q"})
    assert parse_item(item) is item
    assert item.query == "q"
