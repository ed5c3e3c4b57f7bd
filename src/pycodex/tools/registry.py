"""One registry of tools and one dispatch function for every tool call the model makes.

Besides plain tools the registry holds tool namespaces (`tools.namespaces`): listed up front, or,
once `use_tool_search()` was called (the model supports it), deferred behind the client-run
`tool_search` tool. A `function_call` with a `namespace` runs that namespace's member; a plain
name that only exists inside a namespace is refused (`unsupported call: <name>`), as upstream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pycodex._records import replace
from pycodex.execution.truncate import truncate_middle
from pycodex.protocol.items import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    ResponseItem,
    ToolSearchCall,
    ToolSearchOutput,
)
from pycodex.tools.arguments import build_arguments
from pycodex.tools.base import BaseTool, ToolContext, ToolError, ToolOutput
from pycodex.tools.namespaces import (
    DEFAULT_SEARCH_LIMIT,
    ToolNamespace,
    deferred_note,
    search_namespaces,
    tool_search_spec,
)
from pycodex.tools.validate import normalize_arguments, schema_errors

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

ToolCall = FunctionCall | CustomToolCall | ToolSearchCall
# `dispatch` itself, or something that runs around it (the engine's PreToolUse/PostToolUse hooks).
Dispatcher = Callable[
    ["ToolRegistry", ToolCall, ToolContext, "int | None"],
    Awaitable[tuple[ResponseItem, ToolOutput]],
]


class ToolRegistry:
    """Tools by name, namespaces of tools, plus hosted tools (run by the provider) that are
    only advertised."""

    def __init__(self, tools: Iterable[BaseTool[Any]] = ()) -> None:
        self._tools: dict[str, BaseTool[Any]] = {}
        self._namespaces: dict[str, ToolNamespace] = {}
        self._hosted: list[dict[str, Any]] = []
        self._tool_search = False
        for tool in tools:
            self.register(tool)

    def register(self, tool: BaseTool[Any]) -> None:
        if not tool.name:
            raise ValueError(f"{type(tool).__name__} has no name")
        if tool.args_type is not None and tool.input_schema is None:
            raise ValueError(f"{type(tool).__name__} sets args_type without an input_schema")
        self._tools[tool.name] = tool

    def register_namespace(self, namespace: ToolNamespace) -> None:
        for tool in namespace.tools:
            if not tool.name or tool.kind != "function":
                raise ValueError(f"namespace {namespace.name}: members must be named functions")
        self._namespaces[namespace.name] = namespace

    def register_hosted(self, spec: dict[str, Any]) -> None:
        self._hosted.append(spec)

    def use_tool_search(self, enabled: bool = True) -> None:
        """Defer the deferred namespaces behind `tool_search` (for models that support it)."""
        self._tool_search = enabled

    def get(self, name: str, namespace: str | None = None) -> BaseTool[Any] | None:
        if namespace is not None:
            group = self._namespaces.get(namespace)
            return group.get(name) if group is not None else None
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def namespaces(self) -> list[ToolNamespace]:
        return list(self._namespaces.values())

    def deferred_namespaces(self) -> list[ToolNamespace]:
        """The namespaces hidden behind tool_search (none unless tool search is in use)."""
        if not self._tool_search:
            return []
        return [namespace for namespace in self._namespaces.values() if namespace.deferred]

    def specs(self) -> list[dict[str, Any]]:
        """The `tools` list of a request, in registration order (stable for prompt caching)."""
        specs = [tool.spec() for tool in self._tools.values()]
        deferred = self.deferred_namespaces()
        specs += [ns.spec() for ns in self._namespaces.values() if ns not in deferred]
        if deferred:
            specs.append(tool_search_spec())
        return specs + list(self._hosted)

    def deferred_note(self) -> str | None:
        """The developer note naming the deferred namespaces, or None when nothing is deferred."""
        deferred = self.deferred_namespaces()
        return deferred_note(deferred, "Deferred tool namespaces") if deferred else None

    def search(self, query: str, limit: int = DEFAULT_SEARCH_LIMIT) -> list[dict[str, Any]]:
        """The `tools` of a tool_search_output: matching deferred namespaces, loadable later."""
        found = search_namespaces(self.deferred_namespaces(), query, limit)
        return [namespace.spec(defer_loading=True) for namespace in found]

    def is_read_only(self, call: ToolCall) -> bool:
        if isinstance(call, ToolSearchCall):
            return True
        tool = self.get(call.name, getattr(call, "namespace", None))
        return tool is not None and tool.read_only


async def dispatch(
    registry: ToolRegistry,
    call: ToolCall,
    context: ToolContext,
    output_token_limit: int | None = None,
) -> tuple[ResponseItem, ToolOutput]:
    """Run one call; every failure short of cancellation becomes an output for the model."""
    if isinstance(call, ToolSearchCall):
        return _tool_search(registry, call)
    namespace = call.namespace if isinstance(call, FunctionCall) else None
    tool = registry.get(call.name, namespace)
    if tool is None:
        # Upstream joins the two without a separator; models and tests see exactly this.
        output = ToolOutput(f"unsupported call: {namespace or ''}{call.name}", success=False)
    else:
        output = await _run(tool, call, context)
    if output_token_limit is not None:
        text = truncate_middle(output.text, output_token_limit).text
        output = replace(output, text=text)
    return _output_item(call, output), output


async def dispatch_all(
    registry: ToolRegistry,
    calls: Sequence[ToolCall],
    make_context: Callable[[ToolCall], ToolContext],
    *,
    output_token_limit: int | None = None,
    around: Dispatcher | None = None,
) -> list[tuple[ResponseItem, ToolOutput]]:
    """Run calls in order; consecutive read-only calls run concurrently, others one at a time.

    Each output sent back to the model is cut to `output_token_limit` tokens (head and tail kept).
    `around` replaces `dispatch` for every call (it calls `dispatch` itself).
    """
    run = around or dispatch
    results: list[tuple[ResponseItem, ToolOutput]] = []
    index = 0
    while index < len(calls):
        batch = [calls[index]]
        while registry.is_read_only(batch[0]) and index + len(batch) < len(calls):
            following = calls[index + len(batch)]
            if not registry.is_read_only(following):
                break
            batch.append(following)
        outputs = await asyncio.gather(
            *(run(registry, call, make_context(call), output_token_limit) for call in batch)
        )
        results.extend(outputs)
        index += len(batch)
    return results


def _tool_search(registry: ToolRegistry, call: ToolSearchCall) -> tuple[ResponseItem, ToolOutput]:
    arguments = call.arguments or {}
    query = arguments.get("query")
    limit = arguments.get("limit")
    if isinstance(limit, str) and limit.isdigit():
        limit = int(limit)
    if not isinstance(limit, int | float) or isinstance(limit, bool) or limit <= 0:
        limit = DEFAULT_SEARCH_LIMIT
    tools = registry.search(query if isinstance(query, str) else "", int(limit))
    item = ToolSearchOutput(
        call_id=call.call_id or "", status="completed", execution="client", tools=tools
    )
    names = ", ".join(str(tool["name"]) for tool in tools) or "no namespace matched"
    return item, ToolOutput(names)


async def _run(
    tool: BaseTool[Any], call: FunctionCall | CustomToolCall, context: ToolContext
) -> ToolOutput:
    try:
        args = _arguments(tool, call)
        result = await tool.run(context, args)
    except ToolError as err:
        return ToolOutput(str(err), success=False)
    except asyncio.CancelledError:
        raise
    except Exception as err:  # a handler bug must not end the turn; the model is told
        return ToolOutput(f"tool {call.name} failed: {type(err).__name__}: {err}", success=False)
    return result if isinstance(result, ToolOutput) else ToolOutput(str(result))


def _arguments(tool: BaseTool[Any], call: FunctionCall | CustomToolCall) -> Any:
    if isinstance(call, CustomToolCall):
        return call.input
    raw = call.arguments.strip() or "{}"
    try:
        args = json.loads(raw)
    except ValueError as err:
        raise ToolError(f"failed to parse function arguments: {err}") from None
    if not isinstance(args, dict):
        raise ToolError("failed to parse function arguments: expected a JSON object")
    if not tool.checks_arguments:
        return args
    if tool.args_model is not None:
        return _validate_with_model(tool.name, tool.args_model, args)
    schema = tool.parameters_schema()
    if tool.args_type is not None:
        args, problems = normalize_arguments(args, schema)
    else:
        problems = schema_errors(args, schema)
    if problems:
        raise ToolError(f"invalid arguments for {tool.name}: " + "; ".join(problems))
    return args if tool.args_type is None else build_arguments(tool.args_type, args)


def _validate_with_model(name: str, model: type[BaseModel], args: dict[str, Any]) -> BaseModel:
    # Imported here: pydantic costs start-up time, and only user tools with a model need it.
    from pydantic import ValidationError

    try:
        return model.model_validate(args)
    except ValidationError as err:
        raise ToolError(f"invalid arguments for {name}: {_first_error(err)}") from None


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))


def _output_item(call: FunctionCall | CustomToolCall, output: ToolOutput) -> ResponseItem:
    payload: str | list[dict[str, Any]] = output.text
    if output.content_items:
        payload = [{"type": "input_text", "text": output.text}, *output.content_items]
    if isinstance(call, CustomToolCall):
        return CustomToolCallOutput(call_id=call.call_id, output=payload)
    return FunctionCallOutput(call_id=call.call_id, output=payload)
