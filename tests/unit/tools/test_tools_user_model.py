"""A user tool with a pydantic `args_model`, exactly as docs/library.md writes it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pycodex.protocol.items import FunctionCall
from pycodex.protocol.policies import SandboxPolicy
from pycodex.tools.base import BaseTool, ToolContext, ToolOutput
from pycodex.tools.registry import ToolRegistry, dispatch

LIBRARY_DOC = Path(__file__).resolve().parents[3] / "docs" / "library.md"


def documented_tool() -> BaseTool[Any]:
    blocks = re.findall(r"```python\n(.*?)```", LIBRARY_DOC.read_text(), flags=re.DOTALL)
    [example] = [block for block in blocks if "args_model = WordCountArgs" in block]
    namespace: dict[str, Any] = {}
    exec(compile(example, str(LIBRARY_DOC), "exec"), namespace)
    tool: BaseTool[Any] = namespace["WordCount"]()
    return tool


async def word_count(cwd: Path, arguments: dict[str, Any]) -> ToolOutput:
    context = ToolContext(
        call_id="c1", turn_id="t1", cwd=cwd, sandbox_policy=SandboxPolicy.read_only()
    )
    call = FunctionCall(name="word_count", arguments=json.dumps(arguments), call_id="c1")
    _item, output = await dispatch(ToolRegistry([documented_tool()]), call, context)
    return output


def test_the_schema_comes_from_the_model_without_titles() -> None:
    assert documented_tool().spec()["parameters"] == {
        "type": "object",
        "properties": {"path": {"type": "string"}},
        "required": ["path"],
    }


async def test_it_validates_and_runs(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("three little words")
    assert await word_count(tmp_path, {"path": "notes.txt", "extra": 1}) == ToolOutput("3")
    assert await word_count(tmp_path, {}) == ToolOutput(
        "invalid arguments for word_count: path: Field required", success=False
    )
    assert await word_count(tmp_path, {"path": 7}) == ToolOutput(
        "invalid arguments for word_count: path: Input should be a valid string", success=False
    )
