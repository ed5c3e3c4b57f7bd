"""`shell` (an argv array) and `shell_command` (a string): one-shot commands with a timeout.

For models configured to use them instead of `exec_command`. Output is capped keeping the head
and tail, in the format `Exit code: N\\nWall time: S seconds\\nOutput:\\n...`. The process
machinery and the approval rules are imported when a command first runs, not with the specs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycodex._records import dataclass
from pycodex.execution.truncate import truncate_middle
from pycodex.protocol.policies import SandboxPolicy
from pycodex.tools.base import BaseTool, ToolContext, ToolError, ToolOutput
from pycodex.tools.builtin.unified_exec import DEFAULT_SHELL, CommandReport, resolve_workdir

if TYPE_CHECKING:
    from pycodex.execution.process import CommandResult

DEFAULT_TIMEOUT_MS = 10_000
DEFAULT_OUTPUT_TOKENS = 10_000


_WORKDIR = {
    "anyOf": [{"type": "string"}, {"type": "null"}],
    "default": None,
    "description": "Directory to run in.",
}
_TIMEOUT_MS = {
    "anyOf": [{"type": "integer"}, {"type": "null"}],
    "default": None,
    "description": "Kill the command after this long.",
}
_OPTIONAL_STRING = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}


@dataclass(frozen=True, slots=True)
class ShellArgs:
    command: list[str]
    workdir: str | None = None
    timeout_ms: int | None = None
    sandbox_permissions: str | None = None
    justification: str | None = None


SHELL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "command": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The program and its arguments.",
        },
        "workdir": _WORKDIR,
        "timeout_ms": _TIMEOUT_MS,
        "sandbox_permissions": _OPTIONAL_STRING,
        "justification": _OPTIONAL_STRING,
    },
    "required": ["command"],
}


@dataclass(frozen=True, slots=True)
class ShellCommandArgs:
    command: str
    workdir: str | None = None
    timeout_ms: int | None = None
    login: bool = True
    sandbox_permissions: str | None = None
    justification: str | None = None


SHELL_COMMAND_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "command": {"type": "string", "description": "The shell script to run."},
        "workdir": _WORKDIR,
        "timeout_ms": _TIMEOUT_MS,
        "login": {
            "type": "boolean",
            "default": True,
            "description": "Run the shell as a login shell.",
        },
        "sandbox_permissions": _OPTIONAL_STRING,
        "justification": _OPTIONAL_STRING,
    },
    "required": ["command"],
}


@dataclass(frozen=True, slots=True)
class MinimalShellCommandArgs:
    command: str


MINIMAL_SHELL_COMMAND_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"command": {"type": "string", "description": "The command line to run."}},
    "required": ["command"],
}


def format_command_output(exit_code: int, wall_time_s: float, output: str) -> str:
    return f"Exit code: {exit_code}\nWall time: {wall_time_s:.1f} seconds\nOutput:\n{output}"


async def run_shell(
    context: ToolContext,
    argv: list[str],
    args: ShellArgs | ShellCommandArgs,
) -> ToolOutput:
    import shlex

    from pycodex.tools.approvals import exec_permission, retry_outside_sandbox

    if not argv:
        raise ToolError("command must not be empty")
    cwd = resolve_workdir(context, args.workdir)
    report = CommandReport(context.call_id, shlex.join(argv), cwd)
    try:
        permission = await exec_permission(
            context,
            argv,
            sandbox_permissions=args.sandbox_permissions,
            justification=args.justification,
            prefix_rule=None,
        )
    except ToolError as err:
        report.declined(context, str(err))
        raise
    report.begin(context)
    timeout_ms = args.timeout_ms or DEFAULT_TIMEOUT_MS
    result = await _run(context, argv, cwd, permission.sandbox, timeout_ms, report)
    if await retry_outside_sandbox(context, argv, result.exit_code):
        result = await _run(context, argv, cwd, SandboxPolicy.full_access(), timeout_ms, report)
    output = result.aggregated_output
    if result.timed_out:
        output += f"\ncommand timed out after {timeout_ms} ms"
    report.end(context, result.exit_code, output, duration_s=result.duration_s)
    shown = truncate_middle(output, DEFAULT_OUTPUT_TOKENS).text
    return ToolOutput(
        format_command_output(result.exit_code, result.duration_s, shown),
        success=result.exit_code == 0,
    )


async def _run(
    context: ToolContext,
    argv: list[str],
    cwd: Path,
    sandbox: SandboxPolicy,
    timeout_ms: int,
    report: CommandReport,
) -> CommandResult:
    from pycodex.execution.env import build_command_env
    from pycodex.execution.process import run_command

    try:
        return await run_command(
            argv,
            cwd=cwd,
            env=build_command_env(context.shell_environment_policy, os.environ),
            sandbox=sandbox,
            timeout_ms=timeout_ms,
        )
    except OSError as err:
        report.end(context, None, f"failed to start: {err}", duration_s=0.0)
        raise ToolError(f"failed to start command: {err}") from None


class ShellTool(BaseTool[ShellArgs]):
    name = "shell"
    description = 'Run a program (argv array, e.g. ["bash", "-lc", "ls"]) and return its output.'
    input_schema = SHELL_SCHEMA
    args_type = ShellArgs

    async def run(self, context: ToolContext, args: ShellArgs) -> ToolOutput:
        return await run_shell(context, args.command, args)


class ShellCommandTool(BaseTool[ShellCommandArgs]):
    name = "shell_command"
    description = "Run a shell script in the user's shell and return its output."
    input_schema = SHELL_COMMAND_SCHEMA
    args_type = ShellCommandArgs

    async def run(self, context: ToolContext, args: ShellCommandArgs) -> ToolOutput:
        argv = [DEFAULT_SHELL, "-lc" if args.login else "-c", args.command]
        return await run_shell(context, argv, args)


class MinimalShellCommandTool(BaseTool[MinimalShellCommandArgs]):
    """`shell_command` for small models (`minimal_tools` in the model catalog).

    One parameter, nothing else to get wrong, and `bash -c` rather than a login shell: login
    profiles print into every command's output (`pyenv: cannot rehash: ...`), and small models
    take those lines for part of the answer and chase them.
    """

    name = "shell_command"
    description = (
        "Run a command line with bash in the working directory and return its exit code and output."
    )
    input_schema = MINIMAL_SHELL_COMMAND_SCHEMA
    args_type = MinimalShellCommandArgs

    async def run(self, context: ToolContext, args: MinimalShellCommandArgs) -> ToolOutput:
        full = ShellCommandArgs(command=args.command, login=False)
        return await run_shell(context, [DEFAULT_SHELL, "-c", args.command], full)
