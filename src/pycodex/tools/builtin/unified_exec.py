"""`exec_command` and `write_stdin`: commands that may outlive one tool call.

A command runs in the user's shell; after `yield_time_ms` the call returns what the command
printed so far and, if it still runs, a session id the model polls or types into with
`write_stdin`. The command's begin/end events are reported once: end when it has exited.

Only the specs load at start-up: the process manager (`pycodex.execution.unified`: spawning,
PTYs, the sandbox) and the approval rules are imported when a command first runs.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycodex._records import dataclass, field
from pycodex.protocol import events as ev
from pycodex.tools.base import BaseTool, ToolContext, ToolError, ToolOutput

if TYPE_CHECKING:
    from pycodex.execution.unified import ExecChunk, ProcessManager

DEFAULT_SHELL = "/bin/bash"


@dataclass(frozen=True, slots=True)
class ExecCommandArgs:
    cmd: str
    workdir: str | None = None
    shell: str | None = None
    login: bool = True
    tty: bool = False
    yield_time_ms: int = 10_000
    max_output_tokens: int | None = None
    sandbox_permissions: str | None = None
    justification: str | None = None
    prefix_rule: list[str] | None = None


EXEC_COMMAND_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "cmd": {"type": "string", "description": "The shell command to run."},
        "workdir": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
            "description": "Directory to run in (default: the cwd).",
        },
        "shell": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
            "description": "Shell binary (default /bin/bash).",
        },
        "login": {
            "type": "boolean",
            "default": True,
            "description": "Run the shell as a login shell (-lc).",
        },
        "tty": {
            "type": "boolean",
            "default": False,
            "description": "Give the command a pseudo-terminal.",
        },
        "yield_time_ms": {
            "type": "integer",
            "default": 10000,
            "description": "How long to wait for output before returning.",
        },
        "max_output_tokens": {
            "anyOf": [{"type": "integer"}, {"type": "null"}],
            "default": None,
            "description": "Cap on returned output tokens.",
        },
        "sandbox_permissions": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
            "description": '"use_default" or "require_escalated" (asks the user, when allowed).',
        },
        "justification": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
            "description": "Why escalation is needed.",
        },
        "prefix_rule": {
            "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}],
            "default": None,
            "description": "Command prefix the user may approve once and for all.",
        },
    },
    "required": ["cmd"],
}


@dataclass(frozen=True, slots=True)
class WriteStdinArgs:
    session_id: int
    chars: str = ""
    yield_time_ms: int = 250
    max_output_tokens: int | None = None


WRITE_STDIN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "session_id": {"type": "integer", "description": "Session id returned by exec_command."},
        "chars": {
            "type": "string",
            "default": "",
            "description": "Characters to type; empty to just read new output.",
        },
        "yield_time_ms": {
            "type": "integer",
            "default": 250,
            "description": "How long to wait for output before returning.",
        },
        "max_output_tokens": {
            "anyOf": [{"type": "integer"}, {"type": "null"}],
            "default": None,
            "description": "Cap on returned output tokens.",
        },
    },
    "required": ["session_id"],
}


@dataclass
class CommandReport:
    """The begin/end events of one command, as every shell tool reports it."""

    call_id: str
    command: str
    cwd: Path
    started: float = field(default_factory=time.monotonic)
    output: list[str] = field(default_factory=list)

    def begin(self, context: ToolContext) -> None:
        context.emit(ev.ExecCommandBegin(self.call_id, self.command, self.cwd))

    def end(
        self,
        context: ToolContext,
        exit_code: int | None,
        output: str,
        *,
        status: ev.CommandStatus | None = None,
        duration_s: float | None = None,
    ) -> None:
        """`status` defaults to completed when there is an exit code, else failed."""
        context.emit(
            ev.ExecCommandEnd(
                call_id=self.call_id,
                command=self.command,
                cwd=self.cwd,
                exit_code=exit_code,
                aggregated_output=output,
                duration_s=time.monotonic() - self.started if duration_s is None else duration_s,
                status=status or ("completed" if exit_code is not None else "failed"),
            )
        )

    def declined(self, context: ToolContext, reason: str) -> None:
        self.begin(context)
        self.end(context, None, reason, status="declined", duration_s=0.0)


class UnifiedExecState:
    """Shared by both tools: the process manager and which call started which session.

    The manager is created on first use, so a session that never runs a command never imports
    the process machinery.
    """

    def __init__(self, processes: ProcessManager | None = None) -> None:
        self._processes = processes
        self.running: dict[int, CommandReport] = {}

    @property
    def processes(self) -> ProcessManager:
        if self._processes is None:
            from pycodex.execution.unified import ProcessManager

            self._processes = ProcessManager()
        return self._processes

    async def shutdown(self) -> None:
        """Kill every session's process group (nothing to do when no command ever ran)."""
        if self._processes is not None:
            await self._processes.shutdown()

    def report(self, chunk: ExecChunk, command: CommandReport, context: ToolContext) -> None:
        command.output.append(chunk.output)
        if chunk.output:
            context.emit(ev.ExecCommandOutputDelta(command.call_id, chunk.output))
        if chunk.session_id is not None and chunk.exit_code is None:
            self.running[chunk.session_id] = command
            return
        command.end(context, chunk.exit_code, "".join(command.output), status="completed")


def resolve_workdir(context: ToolContext, workdir: str | None) -> Path:
    path = Path(os.path.expanduser(workdir)) if workdir else context.cwd
    path = path if path.is_absolute() else context.cwd / path
    if not path.is_dir():
        raise ToolError(f"workdir {path} is not a directory")
    return path


class ExecCommandTool(BaseTool[ExecCommandArgs]):
    name = "exec_command"
    description = (
        "Run a shell command and return its output. If it is still running after "
        "yield_time_ms, you get a session id: poll it or type into it with write_stdin. "
        "Use tty=true for interactive programs."
    )
    input_schema = EXEC_COMMAND_SCHEMA
    args_type = ExecCommandArgs

    def __init__(self, state: UnifiedExecState) -> None:
        self.state = state

    async def run(self, context: ToolContext, args: ExecCommandArgs) -> ToolOutput:
        import shlex

        from pycodex.execution.env import build_command_env
        from pycodex.execution.unified import format_exec_output
        from pycodex.tools.approvals import exec_permission

        cwd = resolve_workdir(context, args.workdir)
        argv = [args.shell or DEFAULT_SHELL, "-lc" if args.login else "-c", args.cmd]
        command = CommandReport(context.call_id, shlex.join(argv), cwd)
        try:
            permission = await exec_permission(
                context,
                argv,
                sandbox_permissions=args.sandbox_permissions,
                justification=args.justification,
                prefix_rule=args.prefix_rule,
            )
        except ToolError as err:
            command.declined(context, str(err))
            raise
        command.begin(context)
        try:
            chunk = await self.state.processes.start(
                argv,
                cwd=cwd,
                env=build_command_env(context.shell_environment_policy, os.environ),
                sandbox=permission.sandbox,
                tty=args.tty,
                yield_time_ms=args.yield_time_ms,
                max_output_tokens=args.max_output_tokens,
            )
        except OSError as err:
            command.end(context, None, f"failed to start: {err}")
            raise ToolError(f"failed to start command: {err}") from None
        self.state.report(chunk, command, context)
        return ToolOutput(format_exec_output(chunk))


class WriteStdinTool(BaseTool[WriteStdinArgs]):
    name = "write_stdin"
    description = (
        "Type characters into a running exec_command session (include \\n to press Enter), "
        "or pass empty chars to wait for and read its new output."
    )
    input_schema = WRITE_STDIN_SCHEMA
    args_type = WriteStdinArgs

    def __init__(self, state: UnifiedExecState) -> None:
        self.state = state

    async def run(self, context: ToolContext, args: WriteStdinArgs) -> ToolOutput:
        from pycodex.execution.session import ExecSessionError
        from pycodex.execution.unified import format_exec_output

        try:
            chunk = await self.state.processes.write_stdin(
                args.session_id,
                args.chars,
                yield_time_ms=args.yield_time_ms,
                max_output_tokens=args.max_output_tokens,
            )
        except ExecSessionError as err:
            raise ToolError(str(err)) from None
        except OSError as err:
            raise ToolError(f"write_stdin failed: {err}") from None
        command = self.state.running.pop(args.session_id, None)
        if command is not None:
            self.state.report(chunk, command, context)
        return ToolOutput(format_exec_output(chunk))
