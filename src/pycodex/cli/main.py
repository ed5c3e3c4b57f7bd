"""`pycodex` entry point: choose the subcommand, import only what it needs.

`pycodex --help` and `pycodex --version` import nothing beyond this module, the package and the
version string: no `__future__` (annotations are strings), no `collections.abc` or `typing`.
`tests/unit/cli/test_cli_version_imports.py` holds this.
"""

import os
import sys

from pycodex._version import __version__

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: `typing` costs --version ~9 ms
if TYPE_CHECKING:
    from collections.abc import Sequence


def _exec(args: list[str]) -> int:
    from pycodex.cli import sandbox_probe
    from pycodex.cli.std_streams import fill_closed_descriptors, report_stdout_closed

    if fill_closed_descriptors():  # before anything opens a file into a closed stdout slot
        return report_stdout_closed()
    sandbox_probe.start_early(args)  # runs while the engine's modules load
    from pycodex.cli.exec_command import run_exec_command

    code = run_exec_command(args)
    _Exit.fast = True
    return code


def _resume(args: list[str]) -> int:
    from pycodex.cli.interactive_command import run_interactive

    return run_interactive(args, resume=True)


def _sessions(args: list[str]) -> int:
    from pycodex.cli.sessions_command import run_sessions_command

    return run_sessions_command(args)


def _fork(args: list[str]) -> int:
    from pycodex.cli.sessions_command import run_fork_command

    return run_fork_command(args)


def _apply_patch(args: list[str]) -> int:
    from pycodex.cli.apply_patch_command import run_apply_patch_command

    return run_apply_patch_command(args)


def _serve(args: list[str]) -> int:
    from pycodex.cli.serve_command import run_serve_command

    return run_serve_command(args)


def _doctor(args: list[str]) -> int:
    from pycodex.cli.doctor_command import run_doctor_command

    return run_doctor_command(args)


def _debug(args: list[str]) -> int:
    from pycodex.cli.debug_command import run_debug_command

    return run_debug_command(args)


def _batch(args: list[str]) -> int:
    from pycodex.cli.batch_command import run_batch_command

    return run_batch_command(args)


def _memories(args: list[str]) -> int:
    from pycodex.cli.memories_command import run_memories_command

    return run_memories_command(args)


def _local(args: list[str]) -> int:
    from pycodex.cli.local_command import run_local_command

    return run_local_command(args)


def _rules(args: list[str]) -> int:
    from pycodex.cli.rules_command import run_rules_command

    return run_rules_command(args)


def _hooks(args: list[str]) -> int:
    from pycodex.cli.hooks_command import run_hooks_command

    return run_hooks_command(args)


def _mcp(args: list[str]) -> int:
    from pycodex.cli.mcp_command import run_mcp_command

    return run_mcp_command(args)


def _mcp_server(args: list[str]) -> int:
    from pycodex.cli.mcp_server_command import run_mcp_server_command

    return run_mcp_server_command(args)


def _app_server(args: list[str]) -> int:
    # Reached only through `main`, which hands the leading `-c` pairs over itself.
    raise AssertionError("app-server is dispatched with its configuration")


def _run_app_server(args: list[str], config: list[str]) -> int:
    from pycodex.cli.app_server_command import run_app_server_command

    code = run_app_server_command(args, config)
    _Exit.fast = True  # every thread was shut down and its session file closed
    return code


def _sandbox(args: list[str]) -> int:
    from pycodex.cli.sandbox_command import run_sandbox_command

    return run_sandbox_command(args)


# Every command: (name as typed, name as listed in --help, one-line summary, handler or None for
# a listing-only line). `pycodex --help` and the dispatch both come from this table, so a new
# command is one row here (and its handler above). Plain tuples: importing `typing` for a
# NamedTuple would cost every `pycodex --version` ~9 ms.
COMMANDS = (
    ("resume", "resume", "continue a recorded session interactively (`pycodex resume --last`)",
     _resume),
    ("exec", "exec", "run the agent non-interactively (`pycodex exec --help`)", _exec),
    ("e", "", "", _exec),  # upstream's short alias of exec, not listed
    ("", "exec resume", "continue a recorded session (`pycodex exec resume --last \"next step\"`)",
     None),
    ("batch", "batch", "run many exec tasks from a JSONL file, locally or on Ray (`pycodex batch "
     "--help`)", _batch),
    ("sessions", "sessions", "list recorded sessions of this directory (--all for every "
     "directory)", _sessions),
    ("fork", "fork", "copy a recorded session into a new thread", _fork),
    ("apply-patch", "apply-patch", "apply a patch read from stdin to the current directory",
     _apply_patch),
    ("serve", "serve", "a Responses API endpoint in front of a Chat Completions or Messages "
     "server", _serve),
    ("doctor", "doctor", "check config, key, network, model and sandbox (--json, --skip-live)",
     _doctor),
    ("local", "local", "the local model: install, status, start, stop, remove (`pycodex exec "
     "--oss`)", _local),
    ("debug", "debug prompt", "print the exact request the next turn would send (nothing is "
     "sent)", _debug),
    ("rules", "rules", "list or remove command prefixes you allowed for good", _rules),
    ("hooks", "hooks", "list your hooks; trust, untrust, disable or enable them", _hooks),
    ("memories", "memories", "update the memory of past sessions now, or show its summary "
     "(`pycodex memories update|show`)", _memories),
    ("sandbox", "sandbox", "run one command under a sandbox policy (`pycodex sandbox -- ls`)",
     _sandbox),
    ("mcp", "mcp", "add, list, show or remove MCP servers (`pycodex mcp list`)", _mcp),
    ("mcp-server", "mcp-server", "serve pycodex as an MCP server on stdio (tools `codex`, "
     "`codex-reply`)", _mcp_server),
    ("app-server", "app-server", "serve the JSON-RPC protocol of the Codex SDKs on stdio "
     "(`--listen stdio://`)", _app_server),
)  # fmt: skip
# `-c/--config KEY=VALUE` pairs before a command (the official SDKs put them there) are handed
# to these commands, whose own parsers take `-c`; before any other command they are an error,
# not silently lost. No command at all is the interactive agent, which takes them too.
_TAKES_CONFIG = ("exec", "e", "resume", "doctor", "app-server")


def usage() -> str:
    """`pycodex --help`: the interactive agent's line, then one line per listed command."""
    rows = [(shown, summary) for _name, shown, summary, _handler in COMMANDS if shown]
    width = max(len(shown) for shown, _summary in rows)
    lines = [
        "usage: pycodex [OPTIONS] [PROMPT]      "
        "the interactive agent (`pycodex --help-interactive`)",
        "       pycodex [-c KEY=VALUE]... <command> [args]",
        "",
        "`-c/--config KEY=VALUE` before a command applies to it (exec, resume, app-server,",
        "doctor, and the interactive agent).",
        "",
        "commands:",
        *(f"  {shown.ljust(width)}  {summary}" for shown, summary in rows),
    ]
    return "\n".join(lines) + "\n"


def main(argv: "Sequence[str] | None" = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help", "help"):
        sys.stdout.write(usage())
        return 0
    if args and args[0] in ("-V", "--version"):
        sys.stdout.write(f"pycodex {__version__}\n")
        return 0
    global_config, args = _leading_config(args)
    command, rest = (args[0], args[1:]) if args else ("", [])
    if command == "app-server":
        return _run_app_server(rest, global_config)
    if global_config:
        if command not in _TAKES_CONFIG and any(command == row[0] for row in COMMANDS if row[0]):
            sys.stderr.write(f"error: -c/--config before `{command}` is not supported\n")
            return 2
        passed = [f"--config={pair}" for pair in global_config]
        rest, args = [*passed, *rest], [*passed, *args]
    for name, _shown, _summary, handler in COMMANDS:
        if name and command == name and handler is not None:
            return handler(rest)
    if command == "--help-interactive":
        from pycodex.cli.interactive_command import interactive_help

        sys.stdout.write(interactive_help())
        return 0
    from pycodex.cli.interactive_command import run_interactive

    # No command: the interactive agent, with the arguments as its options and prompt.
    return run_interactive(args)


def _leading_config(args: list[str]) -> tuple[list[str], list[str]]:
    """Split off the `-c KEY=VALUE` / `--config KEY=VALUE` pairs that precede the command."""
    pairs: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-c", "--config") and index + 1 < len(args):
            pairs.append(args[index + 1])
            index += 2
        elif arg.startswith("--config="):
            pairs.append(arg.removeprefix("--config="))
            index += 1
        else:
            break
    return pairs, args[index:]


def entry() -> None:
    code = main()
    # A profiler or tracer (cProfile, coverage) writes its results at normal exit.
    if _Exit.fast and sys.getprofile() is None and sys.gettrace() is None:
        _exit_now(code)
    sys.exit(code)


class _Exit:
    # Set by commands that have closed everything they wrote when they return.
    fast = False


def _exit_now(code: int) -> None:
    """End the process without the interpreter's teardown.

    `exec` has flushed and closed its rollout file and written its outputs by the time it returns;
    what is left is freeing every object and module, ~15 ms on slow machines, on every run of a
    command that harnesses start thousands of times. Only the standard streams need flushing.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            code = code or 1  # a closed pipe: the output did not all arrive
    os._exit(code)
