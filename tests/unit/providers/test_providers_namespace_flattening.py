"""Namespaced tools on wires without namespaces: flattened to `<namespace>__<name>`, mapped back."""

from __future__ import annotations

from typing import Any

from pycodex.providers.anthropic import MessagesStreamTranslator, responses_to_messages_request
from pycodex.providers.chat import ChatStreamTranslator, responses_to_chat_request
from support.sse_builders import chat_chunk

NAMESPACE = {
    "type": "namespace",
    "name": "multi_agent_v1",
    "description": "Sub-agents.",
    "tools": [
        {
            "type": "function",
            "name": "wait_agent",
            "description": "Wait for agents.",
            "strict": False,
            "parameters": {"type": "object", "properties": {"targets": {"type": "array"}}},
        },
        {"type": "function", "name": "close_agent", "parameters": {"type": "object"}},
    ],
}
BODY: dict[str, Any] = {
    "model": "m",
    "input": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]},
        {
            "type": "function_call",
            "namespace": "multi_agent_v1",
            "name": "close_agent",
            "arguments": '{"target":"a"}',
            "call_id": "c1",
        },
        {"type": "function_call_output", "call_id": "c1", "output": "{}"},
    ],
    "tools": [NAMESPACE],
}


def test_chat_request_flattens_members_and_replayed_calls() -> None:
    request = responses_to_chat_request(BODY)
    names = [tool["function"]["name"] for tool in request.body["tools"]]
    assert names == ["multi_agent_v1__wait_agent", "multi_agent_v1__close_agent"]
    first = request.body["tools"][0]["function"]
    assert first["description"] == "Wait for agents." and first["strict"] is False
    assert request.namespaced_tools == {
        "multi_agent_v1__wait_agent": ("multi_agent_v1", "wait_agent"),
        "multi_agent_v1__close_agent": ("multi_agent_v1", "close_agent"),
    }
    assistant = request.body["messages"][1]
    assert assistant["tool_calls"][0]["function"]["name"] == "multi_agent_v1__close_agent"
    assert request.warnings == ()


def test_chat_stream_maps_a_flat_call_back_to_its_namespace() -> None:
    request = responses_to_chat_request(BODY)
    translator = ChatStreamTranslator("resp_1", "m", (), namespaced_tools=request.namespaced_tools)
    call = {
        "index": 0,
        "id": "call_9",
        "type": "function",
        "function": {"name": "multi_agent_v1__wait_agent", "arguments": '{"targets":["a"]}'},
    }
    events = translator.start()
    events += translator.feed(chat_chunk(tool_calls=[call], role="assistant"))
    events += translator.feed(chat_chunk(finish_reason="tool_calls"))
    events += translator.finish()
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert done == [
        {
            "id": done[0]["id"],
            "type": "function_call",
            "status": "completed",
            "call_id": "call_9",
            "namespace": "multi_agent_v1",
            "name": "wait_agent",
            "arguments": '{"targets":["a"]}',
        }
    ]


def test_messages_request_and_stream_flatten_the_same_way() -> None:
    request = responses_to_messages_request(BODY)
    assert [tool["name"] for tool in request.body["tools"]] == [
        "multi_agent_v1__wait_agent",
        "multi_agent_v1__close_agent",
    ]
    tool_use = request.body["messages"][1]["content"][0]
    assert tool_use["type"] == "tool_use" and tool_use["name"] == "multi_agent_v1__close_agent"
    translator = MessagesStreamTranslator(
        "resp_1", "m", (), namespaced_tools=request.namespaced_tools
    )
    events = translator.start()
    start = {"type": "message_start", "message": {"id": "msg", "usage": {"input_tokens": 1}}}
    block = {"type": "tool_use", "id": "tu_1", "name": "multi_agent_v1__wait_agent", "input": {}}
    events += translator.feed("message_start", start)
    events += translator.feed(
        "content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}
    )
    events += translator.feed(
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '{"targets":["a"]}'},
        },
    )
    events += translator.feed("content_block_stop", {"type": "content_block_stop", "index": 0})
    events += translator.finish()
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert done[0]["namespace"] == "multi_agent_v1" and done[0]["name"] == "wait_agent"


def test_namespace_without_tools_is_dropped_with_a_warning() -> None:
    request = responses_to_chat_request(
        {"model": "m", "input": [], "tools": [{"type": "namespace"}]}
    )
    assert "tools" not in request.body
    assert request.warnings and "namespace" in request.warnings[0]


TOOL_SEARCH = {
    "type": "tool_search",
    "execution": "client",
    "description": "Find deferred tools.",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
}


def test_client_tool_search_becomes_a_function_and_its_call_comes_back_as_an_item() -> None:
    request = responses_to_chat_request({"model": "m", "input": "go", "tools": [TOOL_SEARCH]})
    (tool,) = request.body["tools"]
    assert tool["function"]["name"] == "tool_search"
    assert tool["function"]["parameters"] == TOOL_SEARCH["parameters"]
    translator = ChatStreamTranslator("resp_1", "m", (), namespaced_tools=request.namespaced_tools)
    call = {
        "index": 0,
        "id": "ts_1",
        "type": "function",
        "function": {"name": "tool_search", "arguments": '{"query": "agents", "limit": 2}'},
    }
    events = translator.start()
    events += translator.feed(chat_chunk(tool_calls=[call], role="assistant"))
    events += translator.feed(chat_chunk(finish_reason="tool_calls"))
    events += translator.finish()
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert done == [
        {
            "id": done[0]["id"],
            "type": "tool_search_call",
            "status": "completed",
            "call_id": "ts_1",
            "execution": "client",
            "arguments": {"query": "agents", "limit": 2},
        }
    ]


def test_loaded_namespaces_become_callable_and_the_search_is_replayed() -> None:
    loaded = {**NAMESPACE, "tools": [{**NAMESPACE["tools"][0], "defer_loading": True}]}
    body = {
        "model": "m",
        "tools": [TOOL_SEARCH],
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]},
            {
                "type": "tool_search_call",
                "call_id": "ts_1",
                "execution": "client",
                "arguments": {"query": "agents"},
            },
            {
                "type": "tool_search_output",
                "call_id": "ts_1",
                "status": "completed",
                "execution": "client",
                "tools": [loaded],
            },
        ],
    }
    for request in (responses_to_chat_request(body), responses_to_messages_request(body)):
        assert request.namespaced_tools["multi_agent_v1__wait_agent"] == (
            "multi_agent_v1",
            "wait_agent",
        )
    chat = responses_to_chat_request(body).body
    names = [tool["function"]["name"] for tool in chat["tools"]]
    assert names == ["tool_search", "multi_agent_v1__wait_agent"]
    call, output = chat["messages"][1], chat["messages"][2]
    assert call["tool_calls"][0]["function"] == {
        "name": "tool_search",
        "arguments": '{"query": "agents"}',
    }
    assert output == {
        "role": "tool",
        "tool_call_id": "ts_1",
        "content": "Loaded, callable now: multi_agent_v1 (wait_agent)",
    }
    messages = responses_to_messages_request(body).body["messages"]
    assert messages[1]["content"][0]["name"] == "tool_search"
    assert messages[2]["content"][0]["type"] == "tool_result"
