"""Built-in tool arguments: the hand-written schemas, their dataclasses, and the checks between.

Arguments go through the registry as the model sends them, so a test sees what the model sees:
the dataclass `run` receives, or the one-sentence error that comes back instead.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pycodex.protocol.items import FunctionCall
from pycodex.protocol.policies import SandboxPolicy
from pycodex.tools.arguments import build_arguments
from pycodex.tools.base import BaseTool, ToolContext, ToolOutput
from pycodex.tools.builtin.apply_patch_tool import ApplyPatchFunctionTool
from pycodex.tools.builtin.grep_files import GrepFilesTool
from pycodex.tools.builtin.list_dir import ListDirTool
from pycodex.tools.builtin.plan import PlanItem, UpdatePlanArgs, UpdatePlanTool
from pycodex.tools.builtin.read_file import IndentationOptions, ReadFileArgs, ReadFileTool
from pycodex.tools.builtin.shell import MinimalShellCommandTool, ShellCommandTool, ShellTool
from pycodex.tools.builtin.unified_exec import (
    ExecCommandArgs,
    ExecCommandTool,
    UnifiedExecState,
    WriteStdinTool,
)
from pycodex.tools.builtin.user_input import (
    RequestUserInputArgs,
    RequestUserInputTool,
    UserInputOption,
    UserInputQuestion,
)
from pycodex.tools.builtin.view_image import ViewImageTool
from pycodex.tools.registry import ToolRegistry, dispatch

BUILTIN_TOOLS: list[BaseTool[Any]] = [
    ExecCommandTool(UnifiedExecState()),
    WriteStdinTool(UnifiedExecState()),
    ShellTool(),
    ShellCommandTool(),
    MinimalShellCommandTool(),
    UpdatePlanTool(),
    ReadFileTool(),
    ListDirTool(),
    GrepFilesTool(),
    ViewImageTool(),
    RequestUserInputTool(),
]
QUESTION = {
    "id": "db",
    "header": "Database",
    "question": "Which one?",
    "options": [{"label": "SQLite", "description": "One file."}],
}


class Recorder(BaseTool[Any]):
    """Keeps what `run` received; `recorder_for` gives it a built-in's name, schema and args."""

    def __init__(self) -> None:
        self.received: list[Any] = []

    async def run(self, context: ToolContext, args: Any) -> str:
        self.received.append(args)
        return "ok"


def recorder_for(builtin: BaseTool[Any]) -> Recorder:
    declared = {
        "name": builtin.name,
        "input_schema": builtin.input_schema,
        "args_type": builtin.args_type,
    }
    return type(f"Recording{type(builtin).__name__}", (Recorder,), declared)()


async def call(tool: BaseTool[Any], arguments: Any) -> tuple[ToolOutput, Any]:
    recorder = recorder_for(tool)
    context = ToolContext(
        call_id="c1", turn_id="t1", cwd=Path.cwd(), sandbox_policy=SandboxPolicy.read_only()
    )
    payload = FunctionCall(name=tool.name, arguments=json.dumps(arguments), call_id="c1")
    _item, output = await dispatch(ToolRegistry([recorder]), payload, context)
    return output, (recorder.received[0] if recorder.received else None)


def tool_named(name: str) -> BaseTool[Any]:
    return next(tool for tool in BUILTIN_TOOLS if tool.name == name)


async def test_defaults_fill_in_and_unknown_keys_are_ignored() -> None:
    output, args = await call(tool_named("exec_command"), {"cmd": "ls", "surprise": [1]})
    assert output == ToolOutput("ok")
    assert args == ExecCommandArgs(cmd="ls")
    assert args.yield_time_ms == 10_000 and args.login is True and args.prefix_rule is None


async def test_nested_objects_become_their_classes() -> None:
    plan = {"plan": [{"step": "a", "status": "completed", "note": "x"}], "explanation": "why"}
    assert (await call(tool_named("update_plan"), plan))[1] == UpdatePlanArgs(
        plan=[PlanItem("a", "completed")], explanation="why"
    )
    _output, asked = await call(tool_named("request_user_input"), {"questions": [QUESTION]})
    assert asked == RequestUserInputArgs(
        [
            UserInputQuestion(
                "db", "Database", "Which one?", [UserInputOption("SQLite", "One file.")]
            )
        ]
    )
    read = {"file_path": "a.py", "mode": "indentation", "indentation": {"max_levels": 2}}
    assert (await call(tool_named("read_file"), read))[1] == ReadFileArgs(
        file_path="a.py", mode="indentation", indentation=IndentationOptions(max_levels=2)
    )


async def test_nulls_for_optional_keys_mean_the_default() -> None:
    arguments = {"cmd": "ls", "workdir": None, "login": None, "yield_time_ms": None}
    assert (await call(tool_named("exec_command"), arguments))[1] == ExecCommandArgs(cmd="ls")
    read = {"file_path": "a.py", "indentation": {"anchor_line": None, "include_header": None}}
    _output, args = await call(tool_named("read_file"), read)
    assert args.indentation == IndentationOptions()


async def test_lossless_spellings_are_converted_as_pydantic_did() -> None:
    arguments = {"cmd": "ls", "yield_time_ms": "500", "max_output_tokens": 300.0}
    arguments |= {"login": "false", "tty": 1, "prefix_rule": ["ls"]}
    _output, args = await call(tool_named("exec_command"), arguments)
    assert args == ExecCommandArgs(
        cmd="ls",
        yield_time_ms=500,
        max_output_tokens=300,
        login=False,
        tty=True,
        prefix_rule=["ls"],
    )
    assert type(args.max_output_tokens) is int


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("exec_command", {}, "missing required field 'cmd'"),
        ("exec_command", {"cmd": 5}, "cmd: expected string, got integer"),
        ("exec_command", {"cmd": None}, "cmd: expected string, got null"),
        (
            "exec_command",
            {"cmd": "ls", "yield_time_ms": 1.5},
            "yield_time_ms: expected integer, got number",
        ),
        ("exec_command", {"cmd": "ls", "tty": "maybe"}, "tty: expected boolean, got string"),
        (
            "exec_command",
            {"cmd": "ls", "workdir": 3},
            "workdir: expected string or null, got integer",
        ),
        (
            "exec_command",
            {"cmd": "ls", "prefix_rule": ["ls", 1]},
            "prefix_rule[1]: expected string, got integer",
        ),
        ("shell", {"command": "ls"}, "command: expected array, got string"),
        ("write_stdin", {"session_id": "one"}, "session_id: expected integer, got string"),
        (
            "update_plan",
            {"plan": [{"step": "a", "status": "done"}]},
            "plan[0].status: expected one of 'pending', 'in_progress', 'completed', got 'done'",
        ),
        ("update_plan", {"plan": [{"step": "a"}]}, "missing required field 'plan[0].status'"),
        ("read_file", {"file_path": "a", "offset": 0}, "offset: expected at least 1, got 0"),
        (
            "read_file",
            {"file_path": "a", "indentation": "deep"},
            "indentation: expected object or null, got string",
        ),
        (
            "read_file",
            {"file_path": "a", "indentation": {"max_levels": -1}},
            "indentation.max_levels: expected at least 0, got -1",
        ),
        (
            "read_file",
            {"file_path": "a", "indentation": {"anchor_line": "0"}},
            "indentation.anchor_line: expected at least 1, got 0",
        ),
        (
            "request_user_input",
            {"questions": [{**QUESTION, "options": [{"label": "SQLite"}]}]},
            "missing required field 'questions[0].options[0].description'",
        ),
        ("request_user_input", {"questions": []}, "questions: expected at least 1 item, got 0"),
        ("grep_files", {"pattern": ""}, "pattern: expected at least 1 character, got 0"),
        ("list_dir", [], "failed to parse function arguments: expected a JSON object"),
    ],
)
async def test_wrong_arguments_come_back_as_one_sentence(
    tool: str, arguments: Any, message: str
) -> None:
    output, args = await call(tool_named(tool), arguments)
    prefix = "" if message.startswith("failed") else f"invalid arguments for {tool}: "
    assert output == ToolOutput(prefix + message, success=False)
    assert args is None


async def test_plain_schema_tools_get_the_dict_as_sent() -> None:
    """Without `args_type` nothing is converted, and `additionalProperties: false` is enforced."""
    tool = ApplyPatchFunctionTool()
    output, args = await call(tool, {"input": "*** Begin Patch"})
    assert args == {"input": "*** Begin Patch"}
    output, args = await call(tool, {"input": "x", "patch": "y"})
    assert output == ToolOutput(
        "invalid arguments for apply_patch: unexpected field 'patch'", success=False
    )


def schema_pairs() -> list[Any]:
    """Every (schema object, class) pair of the built-ins, nested definitions included."""
    nested = (PlanItem, IndentationOptions, UserInputQuestion, UserInputOption)
    pairs = []
    for tool in BUILTIN_TOOLS:
        assert tool.input_schema is not None and tool.args_type is not None, tool.name
        pairs.append(pytest.param(tool.input_schema, tool.args_type, id=tool.name))
        defs = tool.input_schema.get("$defs", {})
        pairs += [
            pytest.param(defs[cls.__name__], cls, id=f"{tool.name}.{cls.__name__}")
            for cls in nested
            if cls.__name__ in defs
        ]
    return pairs


@pytest.mark.parametrize(("schema", "cls"), schema_pairs())
def test_every_builtin_schema_matches_its_args_type(schema: dict[str, Any], cls: type) -> None:
    fields = {field.name: field for field in dataclasses.fields(cls)}
    properties = schema["properties"]
    assert set(properties) == set(fields)
    defaults = {name: default_of(field) for name, field in fields.items()}
    required = {name for name, default in defaults.items() if default is dataclasses.MISSING}
    assert set(schema.get("required", [])) == required
    for name, default in defaults.items():
        if default is not dataclasses.MISSING:
            assert properties[name]["default"] == default, name


def default_of(field: dataclasses.Field[Any]) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def test_build_arguments_on_its_own() -> None:
    args = build_arguments(UpdatePlanArgs, {"plan": [{"step": "s", "status": "pending"}]})
    assert args == UpdatePlanArgs(plan=[PlanItem("s", "pending")])
    assert (
        build_arguments(ReadFileArgs, {"file_path": "f", "indentation": None}).indentation is None
    )


def test_args_type_needs_an_input_schema() -> None:
    class Broken(BaseTool[ReadFileArgs]):
        name = "broken"
        args_type = ReadFileArgs

    with pytest.raises(ValueError, match="args_type without an input_schema"):
        ToolRegistry([Broken()])


def test_tools_modules_do_not_import_pydantic() -> None:
    """Start-up time: only a user tool's own `args_model` may bring pydantic in."""
    probe = """
import builtins, sys
real_import = builtins.__import__
importers = set()
def spy(name, globals=None, locals=None, fromlist=(), level=0):
    if name.split(".")[0] == "pydantic":
        importers.add((globals or {}).get("__name__"))
    return real_import(name, globals, locals, fromlist, level)
builtins.__import__ = spy
import pycodex.tools.builtin, pycodex.tools.registry
import pycodex.tools.builtin.read_file, pycodex.tools.builtin.list_dir, pycodex.tools.builtin.grep_files
print(sorted(name for name in importers if name and name.startswith("pycodex.tools")))
"""
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert proc.stdout.strip() == "[]"
