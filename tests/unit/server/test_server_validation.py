"""Bad request bodies: each a 400 naming the parameter, in the Responses API error shape.

Nothing reaches the model server for any of them (the fake server has no script, so a request
that got through would fail the test at teardown).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from support.fake_server import FakeModelServer
from support.sse_builders import chat_chunk

CHAT = "/v1/chat/completions"


def body(**fields: Any) -> bytes:
    return json.dumps({"model": "m", "input": "hi", **fields}).encode()


def items(*input_items: Any) -> bytes:
    return body(input=list(input_items))


def nested(depth: int) -> bytes:
    return b'{"model": "m", "input": "hi", "metadata": {"x": ' + b"[" * depth + b"]" * depth + b"}}"


FUNCTION = {"type": "function", "name": "f", "parameters": {"type": "object"}}

BAD_BODIES = [
    # (label, raw body, param, code)
    ("not JSON", b"{not json", None, "invalid_json"),
    ("not an object", b"[1, 2]", None, None),
    ("no model", b'{"input": "hi"}', "model", "missing_required_parameter"),
    ("input a number", body(input=5), "input", "invalid_type"),
    ("input item a string", items("text"), "input[0]", "invalid_type"),
    ("stream not a boolean", body(stream="yes"), "stream", "invalid_type"),
    ("tools an object", body(tools={}), "tools", "invalid_type"),
    ("max_output_tokens 1.5", body(max_output_tokens=1.5), "max_output_tokens", "invalid_type"),
    # issue 14 item 8
    ("content: 5", items({"type": "message", "role": "user", "content": 5}), "input[0].content", "invalid_type"),
    ("unknown item type", items({"type": "frobnicate"}), "input[0].type", "invalid_value"),
    ("item_reference", items({"type": "item_reference", "id": "msg_1"}), "input[0].type", "invalid_value"),
    ("temperature NaN", b'{"model": "m", "input": "hi", "temperature": NaN}', "temperature", "invalid_json"),
    ("Infinity in an item", b'{"model": "m", "input": [{"role": "user", "content": [{"type": "input_text", "text": -Infinity}]}]}', "input[0].content[0].text", "invalid_json"),
    ("1e400 in a tool schema", b'{"model": "m", "input": "hi", "tools": [{"type": "function", "name": "f", "parameters": {"maximum": 1e400}}]}', "tools[0].parameters.maximum", "invalid_json"),
    ("max_output_tokens -1", body(max_output_tokens=-1), "max_output_tokens", "integer_below_min_value"),
    ("max_output_tokens 0", body(max_output_tokens=0), "max_output_tokens", "integer_below_min_value"),
    ("tools: [5]", body(tools=[5]), "tools[0]", "invalid_type"),
    ("tool without a name", body(tools=[{"type": "function", "parameters": {}}]), "tools[0].name", "missing_required_parameter"),
    ("function_call_output without call_id", items({"type": "function_call_output", "output": "ok"}), "input[0].call_id", "missing_required_parameter"),
    ("nested 100000 deep", nested(100_000), None, "invalid_json"),
    ("nested 200 deep", nested(200), None, "invalid_json"),
    # the rest of what the translators read
    ("temperature 3", body(temperature=3), "temperature", "decimal_above_max_value"),
    ("top_p -0.5", body(top_p=-0.5), "top_p", "decimal_below_min_value"),
    ("temperature a string", body(temperature="hot"), "temperature", "invalid_type"),
    ("role robot", items({"type": "message", "role": "robot", "content": "x"}), "input[0].role", "invalid_value"),
    ("message without role", items({"type": "message", "content": "x"}), "input[0].role", "missing_required_parameter"),
    ("content part 5", items({"role": "user", "content": [5]}), "input[0].content[0]", "invalid_type"),
    ("text part without text", items({"role": "user", "content": [{"type": "input_text"}]}), "input[0].content[0].text", "missing_required_parameter"),
    ("unknown content part", items({"role": "user", "content": [{"type": "input_audio"}]}), "input[0].content[0].type", "invalid_value"),
    ("file part", items({"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}), "input[0].content[0].type", "unsupported_parameter"),
    ("image by file_id", items({"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}), "input[0].content[0].file_id", "unsupported_parameter"),
    ("function_call without name", items({"type": "function_call", "call_id": "c", "arguments": "{}"}), "input[0].name", "missing_required_parameter"),
    ("function_call with empty call_id", items({"type": "function_call", "call_id": "", "name": "f", "arguments": "{}"}), "input[0].call_id", "invalid_value"),
    ("function_call arguments object", items({"type": "function_call", "call_id": "c", "name": "f", "arguments": {}}), "input[0].arguments", "invalid_type"),
    ("custom_tool_call without input", items({"type": "custom_tool_call", "call_id": "c", "name": "f"}), "input[0].input", "missing_required_parameter"),
    ("custom_tool_call_output without output", items({"type": "custom_tool_call_output", "call_id": "c"}), "input[0].output", "missing_required_parameter"),
    ("tool output a number", items({"type": "function_call_output", "call_id": "c", "output": 5}), "input[0].output", "invalid_type"),
    ("reasoning summary 5", items({"type": "reasoning", "summary": 5}), "input[0].summary", "invalid_type"),
    ("compaction content 5", items({"type": "compaction", "encrypted_content": 5}), "input[0].encrypted_content", "invalid_type"),
    ("tool type missing", body(tools=[{"name": "f"}]), "tools[0].type", "missing_required_parameter"),
    ("tool name with a space", body(tools=[{**FUNCTION, "name": "two words"}]), "tools[0].name", "invalid_value"),
    ("tool parameters a string", body(tools=[{**FUNCTION, "parameters": "{}"}]), "tools[0].parameters", "invalid_type"),
    ("tool_choice sometimes", body(tool_choice="sometimes"), "tool_choice", "invalid_value"),
    ("tool_choice function without name", body(tool_choice={"type": "function"}), "tool_choice.name", "missing_required_parameter"),
    ("text.format yaml", body(text={"format": {"type": "yaml"}}), "text.format.type", "invalid_value"),
    ("json_schema without schema", body(text={"format": {"type": "json_schema", "name": "x"}}), "text.format.schema", "missing_required_parameter"),
    ("reasoning effort 5", body(reasoning={"effort": 5}), "reasoning.effort", "invalid_type"),
    ("metadata a list", body(metadata=[]), "metadata", "invalid_type"),
    ("background", body(background=True), "background", "unsupported_parameter"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "param", "code"), [case[1:] for case in BAD_BODIES], ids=[c[0] for c in BAD_BODIES]
)
async def test_bad_bodies_get_a_400_naming_the_parameter(
    http: httpx.AsyncClient, raw: bytes, param: str | None, code: str | None
) -> None:
    response = await http.post(
        "/v1/responses", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert (error["param"], error["code"]) == (param, code), error["message"]
    assert error["message"] and (param is None or param in error["message"])


async def test_every_item_type_codex_sends_is_carried(
    http: httpx.AsyncClient, fake_server: FakeModelServer
) -> None:
    fake_server.expect_chat_stream(CHAT, [chat_chunk("done"), chat_chunk(finish_reason="stop")])
    history = [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "rules"}]},
        {"role": "user", "content": "run it"},
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "plan"}], "encrypted_content": "opaque"},
        {"type": "function_call", "call_id": "c1", "name": "exec_command", "arguments": '{"cmd":"ls"}'},
        {"type": "function_call_output", "call_id": "c1", "output": "a.txt"},
        {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** Begin Patch"},
        {"type": "custom_tool_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "ok"}]},
        {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search", "query": "x"}},
    ]  # fmt: skip
    tools = [
        {**FUNCTION, "name": "exec_command"},
        {"type": "custom", "name": "apply_patch", "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"}},
        {"type": "web_search", "external_web_access": False},
    ]  # fmt: skip
    response = await http.post(
        "/v1/responses",
        json={"model": "m", "input": history, "tools": tools, "temperature": 0, "top_p": 1},
    )
    assert response.status_code == 200, response.text
    sent = fake_server.requests[0].json()
    assert [m["role"] for m in sent["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
    ]
    assert [t["function"]["name"] for t in sent["tools"]] == ["exec_command", "apply_patch"]
