"""`pycodex sandbox [--mode M] [--add-dir D]... [--network] [-C DIR] -- CMD...`

Runs one command under a sandbox policy through the same spawn path the agent's tools use, so
users (and tests) can see what a command may do. Output is streamed as it arrives; the exit code
is the command's. The mechanism in use is announced in one line on stderr first; when no
mechanism can start, that one line says why and the exit code is 1 — the command never runs
unconfined unless `--mode danger-full-access` asks for it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

from pycodex.execution.fdio import FdReader
from pycodex.execution.sandbox import (
    SandboxUnavailableError,
    sandbox_status,
    unavailable_message,
)
from pycodex.execution.spawn import (
    IO_DRAIN_TIMEOUT_S,
    StdinMode,
    exit_code_from_returncode,
    kill_process_group,
    spawn_piped,
)
from pycodex.protocol.policies import SandboxMode, SandboxPolicy

SANDBOX_FAILED_EXIT_CODE = 1
USAGE_EXIT_CODE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pycodex sandbox",
        description="Run one command inside the sandbox pycodex uses for the agent's commands.",
    )
    parser.add_argument(
        "--mode",
        "-s",
        "--sandbox",
        choices=[mode.value for mode in SandboxMode],
        default=SandboxMode.READ_ONLY.value,
        help="sandbox mode (default: read-only)",
    )
    parser.add_argument(
        "--add-dir", action="append", default=[], metavar="DIR", help="extra writable root"
    )
    parser.add_argument("--network", action="store_true", help="allow network access")
    parser.add_argument("-C", "--cd", metavar="DIR", help="working directory (default: current)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    return parser


def run_sandbox_command(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        parser.print_usage(sys.stderr)
        sys.stderr.write("pycodex sandbox: error: no command given (put it after --)\n")
        return USAGE_EXIT_CODE
    cwd = Path(args.cd).resolve() if args.cd else Path.cwd()
    mode = SandboxMode(args.mode)
    policy = SandboxPolicy(
        mode=mode,
        writable_roots=tuple(Path(directory).resolve() for directory in args.add_dir),
        network_access=args.network or mode is SandboxMode.DANGER_FULL_ACCESS,
    )
    if mode is not SandboxMode.DANGER_FULL_ACCESS:
        status = sandbox_status()
        if status.mechanism is None:
            sys.stderr.write(f"error: {unavailable_message(status)}\n")
            return SANDBOX_FAILED_EXIT_CODE
        sys.stderr.write(f"sandbox: {mode.value} via {status.detail}\n")
    try:
        return asyncio.run(_run(command, cwd, policy))
    except SandboxUnavailableError as err:
        sys.stderr.write(f"error: {err}\n")
        return SANDBOX_FAILED_EXIT_CODE
    except OSError as err:
        sys.stderr.write(f"error: cannot run {command[0]}: {err.strerror or err}\n")
        return SANDBOX_FAILED_EXIT_CODE


async def _run(command: list[str], cwd: Path, policy: SandboxPolicy) -> int:
    child = await spawn_piped(
        command,
        cwd=cwd,
        env=dict(os.environ),
        sandbox=policy,
        merge_stderr=False,
        stdin=StdinMode.INHERIT,
    )
    readers = [FdReader(child.output_fd, _forward(sys.stdout.fileno()))]
    if child.stderr_fd is not None:
        readers.append(FdReader(child.stderr_fd, _forward(sys.stderr.fileno())))
    try:
        await child.process.wait()
        for reader in readers:
            await reader.wait_eof(IO_DRAIN_TIMEOUT_S)
    except asyncio.CancelledError:
        await kill_process_group(child.process, grace_s=0)
        raise
    finally:
        for reader in readers:
            reader.stop()
        child.close()
    returncode = child.process.returncode
    return 1 if returncode is None else exit_code_from_returncode(returncode)


def _forward(fd: int) -> Callable[[bytes], None]:
    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    return write
