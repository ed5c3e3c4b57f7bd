"""Tool namespaces in the registry: listing, deferral behind tool_search, search, dispatch."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, ClassVar

from pycodex.protocol.items import (
    FunctionCall,
    FunctionCallOutput,
    ToolSearchCall,
    ToolSearchOutput,
)
from pycodex.protocol.policies import SandboxPolicy
from pycodex.tools.base import BaseTool, ToolContext
from pycodex.tools.namespaces import ToolNamespace, bm25_scores, search_namespaces
from pycodex.tools.registry import ToolRegistry, dispatch


class Echo(BaseTool[dict[str, Any]]):
    name = "echo"
    description = "Echo the text back."
    input_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "additionalProperties": False,
    }

    async def run(self, context: ToolContext, args: dict[str, Any]) -> str:
        return f"echo: {args.get('text', '')}"


class Plain(Echo):
    name = "plain"


def registry(search: bool) -> ToolRegistry:
    tools = ToolRegistry([Plain()])
    tools.register_namespace(ToolNamespace("echoes", "Tools that repeat what they get.", [Echo()]))
    tools.register_namespace(
        ToolNamespace("calendar", "Create and list calendar events.", [Echo()], deferred=False)
    )
    tools.use_tool_search(search)
    return tools


def context() -> ToolContext:
    return ToolContext(
        call_id="c", turn_id="t", cwd=Path("/"), sandbox_policy=SandboxPolicy.read_only()
    )


def test_namespaces_listed_up_front_without_tool_search() -> None:
    specs = registry(search=False).specs()
    assert [spec["type"] for spec in specs] == ["function", "namespace", "namespace"]
    echoes = specs[1]
    assert (
        echoes["name"] == "echoes" and echoes["description"] == "Tools that repeat what they get."
    )
    assert [tool["name"] for tool in echoes["tools"]] == ["echo"]
    assert "defer_loading" not in echoes["tools"][0]
    assert registry(search=False).deferred_note() is None


def test_deferred_namespaces_hide_behind_tool_search() -> None:
    tools = registry(search=True)
    specs = tools.specs()
    assert [spec.get("name") for spec in specs] == ["plain", "calendar", None]
    search = specs[-1]
    assert search["type"] == "tool_search" and search["execution"] == "client"
    assert search["parameters"]["required"] == ["query"]
    assert set(search["parameters"]["properties"]) == {"query", "limit"}
    assert tools.deferred_note() == (
        "<tools>\nDeferred tool namespaces:\n- echoes: Tools that repeat what they get.\n</tools>"
    )


def test_tool_search_call_answers_with_matching_namespaces() -> None:
    call = ToolSearchCall(
        call_id="ts_1", execution="client", arguments={"query": "repeat", "limit": 3}
    )
    item, output = asyncio.run(dispatch(registry(search=True), call, context()))
    assert isinstance(item, ToolSearchOutput)
    wire = item.to_wire()
    assert wire["call_id"] == "ts_1" and wire["status"] == "completed"
    assert wire["execution"] == "client"
    assert [tool["name"] for tool in wire["tools"]] == ["echoes"]
    assert wire["tools"][0]["tools"][0]["defer_loading"] is True
    assert output.success


def test_tool_search_with_no_match_returns_no_tools() -> None:
    call = ToolSearchCall(call_id="ts_2", execution="client", arguments={"query": "zebra"})
    item, _ = asyncio.run(dispatch(registry(search=True), call, context()))
    assert item.to_wire()["tools"] == []


def test_namespaced_call_routes_to_the_member() -> None:
    call = FunctionCall(namespace="echoes", name="echo", arguments='{"text": "hi"}', call_id="c1")
    item, output = asyncio.run(dispatch(registry(search=True), call, context()))
    assert item == FunctionCallOutput(call_id="c1", output="echo: hi")
    assert output.success


def test_plain_name_of_a_namespaced_tool_is_unsupported() -> None:
    call = FunctionCall(name="echo", arguments="{}", call_id="c2")
    item, output = asyncio.run(dispatch(registry(search=False), call, context()))
    assert item == FunctionCallOutput(call_id="c2", output="unsupported call: echo")
    assert not output.success


def test_unknown_namespace_joins_names_like_upstream() -> None:
    call = FunctionCall(
        namespace="multi_agent_v1", name="spawn_agent", arguments="{}", call_id="c3"
    )
    item, _ = asyncio.run(dispatch(registry(search=False), call, context()))
    assert item == FunctionCallOutput(
        call_id="c3", output="unsupported call: multi_agent_v1spawn_agent"
    )


def test_bm25_prefers_rare_words_and_respects_limit() -> None:
    scores = bm25_scores([["mail", "send"], ["mail", "read"], ["calendar"]], ["read", "mail"])
    assert scores[1] > scores[0] > scores[2] == 0
    namespaces = [ToolNamespace(f"ns{index}", f"mail tool number {index}") for index in range(5)]
    assert len(search_namespaces(namespaces, "mail", 2)) == 2
    assert search_namespaces(namespaces, "mail", 0) == []


def test_namespaced_call_round_trips_json() -> None:
    wire = {
        "type": "function_call",
        "namespace": "ns",
        "name": "a",
        "arguments": "{}",
        "call_id": "c",
    }
    assert FunctionCall(**{k: v for k, v in wire.items() if k != "type"}).to_wire() == wire
    assert json.loads(FunctionCall(name="a", arguments="{}", call_id="c").wire_json()) == {
        "type": "function_call",
        "name": "a",
        "arguments": "{}",
        "call_id": "c",
    }
