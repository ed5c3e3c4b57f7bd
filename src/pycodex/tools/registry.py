"""One registry of tools and one dispatch function for every tool call the model makes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pycodex._records import replace
from pycodex.execution.truncate import truncate_middle
from pycodex.protocol.items import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    ResponseItem,
)
from pycodex.tools.arguments import build_arguments
from pycodex.tools.base import BaseTool, ToolContext, ToolError, ToolOutput
from pycodex.tools.validate import normalize_arguments, schema_errors

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

ToolCall = FunctionCall | CustomToolCall


class ToolRegistry:
    """Tools by name, plus hosted tools (run by the provider) that are only advertised."""

    def __init__(self, tools: Iterable[BaseTool[Any]] = ()) -> None:
        self._tools: dict[str, BaseTool[Any]] = {}
        self._hosted: list[dict[str, Any]] = []
        for tool in tools:
            self.register(tool)

    def register(self, tool: BaseTool[Any]) -> None:
        if not tool.name:
            raise ValueError(f"{type(tool).__name__} has no name")
        if tool.args_type is not None and tool.input_schema is None:
            raise ValueError(f"{type(tool).__name__} sets args_type without an input_schema")
        self._tools[tool.name] = tool

    def register_hosted(self, spec: dict[str, Any]) -> None:
        self._hosted.append(spec)

    def get(self, name: str) -> BaseTool[Any] | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self) -> list[dict[str, Any]]:
        """The `tools` list of a request, in registration order (stable for prompt caching)."""
        return [tool.spec() for tool in self._tools.values()] + list(self._hosted)

    def is_read_only(self, call: ToolCall) -> bool:
        tool = self._tools.get(call.name)
        return tool is not None and tool.read_only


async def dispatch(
    registry: ToolRegistry,
    call: ToolCall,
    context: ToolContext,
    output_token_limit: int | None = None,
) -> tuple[ResponseItem, ToolOutput]:
    """Run one call; every failure short of cancellation becomes an output for the model."""
    tool = registry.get(call.name)
    if tool is None:
        output = ToolOutput(f"unsupported call: {call.name}", success=False)
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
) -> list[tuple[ResponseItem, ToolOutput]]:
    """Run calls in order; consecutive read-only calls run concurrently, others one at a time.

    Each output sent back to the model is cut to `output_token_limit` tokens (head and tail kept).
    """
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
            *(dispatch(registry, call, make_context(call), output_token_limit) for call in batch)
        )
        results.extend(outputs)
        index += len(batch)
    return results


async def _run(tool: BaseTool[Any], call: ToolCall, context: ToolContext) -> ToolOutput:
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


def _arguments(tool: BaseTool[Any], call: ToolCall) -> Any:
    if isinstance(call, CustomToolCall):
        return call.input
    raw = call.arguments.strip() or "{}"
    try:
        args = json.loads(raw)
    except ValueError as err:
        raise ToolError(f"failed to parse function arguments: {err}") from None
    if not isinstance(args, dict):
        raise ToolError("failed to parse function arguments: expected a JSON object")
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


def _output_item(call: ToolCall, output: ToolOutput) -> ResponseItem:
    payload: str | list[dict[str, Any]] = output.text
    if output.content_items:
        payload = [{"type": "input_text", "text": output.text}, *output.content_items]
    if isinstance(call, CustomToolCall):
        return CustomToolCallOutput(call_id=call.call_id, output=payload)
    return FunctionCallOutput(call_id=call.call_id, output=payload)
