"""What a `tools/call` becomes: the output the model reads and the `result` of the item.

For the model (upstream's shapes): a `Wall time: N seconds\\nOutput:` header, then

- a result with `structuredContent`: one string, the header and the compact JSON of it;
- otherwise a list of content parts: the header as `input_text`, each text block as
  `input_text`, each image as an `input_image` data URL, anything else as its JSON;
- an error (`isError`, a refusal, a timeout): the list form, with nothing marking it as an
  error beyond the words.
"""

from __future__ import annotations

import json
from typing import Any

from pycodex._records import dataclass
from pycodex.tools.base import ToolOutput


@dataclass(frozen=True, slots=True)
class McpCallResult:
    """A `tools/call` result as plain data: `content` holds the server's blocks as sent."""

    content: list[dict[str, Any]]
    structured_content: Any = None
    is_error: bool = False

    def item_result(self) -> dict[str, Any]:
        """`result` of an `mcp_tool_call` item."""
        return {"content": self.content, "structured_content": self.structured_content}


def wall_time_header(seconds: float) -> str:
    return f"Wall time: {seconds:.4f} seconds\nOutput:"


def model_output(result: McpCallResult, seconds: float) -> ToolOutput:
    header = wall_time_header(seconds)
    if result.structured_content is not None and not result.is_error:
        return ToolOutput(header + "\n" + _compact(result.structured_content))
    parts = tuple(part for block in result.content for part in _parts(block))
    return ToolOutput(header, success=not result.is_error, content_items=parts)


def error_output(message: str, seconds: float) -> ToolOutput:
    """A call that did not reach a result (refused, timed out, the server gone)."""
    text = {"type": "input_text", "text": message}
    return ToolOutput(wall_time_header(seconds), success=False, content_items=(text,))


def _parts(block: dict[str, Any]) -> list[dict[str, Any]]:
    kind = block.get("type")
    if kind == "text" and isinstance(block.get("text"), str):
        return [{"type": "input_text", "text": block["text"]}]
    if kind == "image" and isinstance(block.get("data"), str):
        mime = block.get("mimeType") or "image/png"
        return [{"type": "input_image", "image_url": f"data:{mime};base64,{block['data']}"}]
    if kind == "resource":
        resource = block.get("resource")
        if isinstance(resource, dict) and isinstance(resource.get("text"), str):
            return [{"type": "input_text", "text": resource["text"]}]
    return [{"type": "input_text", "text": _compact(block)}]


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
