"""`pycodex` entry point: choose the subcommand, import only what it needs.

`pycodex --help` and `pycodex --version` import nothing beyond argparse and the version string.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from pycodex._version import __version__

USAGE = """\
usage: pycodex [OPTIONS] [PROMPT]      the interactive agent (`pycodex --help-interactive`)
       pycodex <command> [args]

commands:
  resume       continue a recorded session interactively (`pycodex resume --last`)
  exec         run the agent non-interactively (`pycodex exec --help`)
  exec resume  continue a recorded session (`pycodex exec resume --last "next step"`)
  sessions     list recorded sessions of this directory (--all for every directory)
  fork         copy a recorded session into a new thread
  apply-patch  apply a patch read from stdin to the current directory
  serve        a Responses API endpoint in front of a Chat Completions or Messages server
  doctor       check config, key, network, model and sandbox (--json, --skip-live)
  local        the local model: install, status, start, stop, remove (`pycodex exec --oss`)
  debug prompt print the exact request the next turn would send (nothing is sent)
  rules        list or remove command prefixes you allowed for good
  sandbox      run one command under a sandbox policy (`pycodex sandbox -- ls`)
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    if args and args[0] in ("-V", "--version"):
        sys.stdout.write(f"pycodex {__version__}\n")
        return 0
    command, rest = (args[0], args[1:]) if args else ("", [])
    if command in ("exec", "e"):
        from pycodex.cli import sandbox_probe

        sandbox_probe.start_early(rest)  # runs while the engine's modules load
        from pycodex.cli.exec_command import run_exec_command

        code = run_exec_command(rest)
        _Exit.fast = True
        return code
    if command in ("sessions", "fork"):
        from pycodex.cli import sessions_command

        if command == "sessions":
            return sessions_command.run_sessions_command(rest)
        return sessions_command.run_fork_command(rest)
    if command == "doctor":
        from pycodex.cli.doctor_command import run_doctor_command

        return run_doctor_command(rest)
    if command == "local":
        from pycodex.cli.local_command import run_local_command

        return run_local_command(rest)
    if command == "serve":
        from pycodex.cli.serve_command import run_serve_command

        return run_serve_command(rest)
    if command == "debug":
        from pycodex.cli.debug_command import run_debug_command

        return run_debug_command(rest)
    if command == "rules":
        from pycodex.cli.rules_command import run_rules_command

        return run_rules_command(rest)
    if command == "sandbox":
        from pycodex.cli.sandbox_command import run_sandbox_command

        return run_sandbox_command(rest)
    if command == "apply-patch":
        from pycodex.cli.apply_patch_command import run_apply_patch_command

        return run_apply_patch_command(rest)
    if command == "--help-interactive":
        from pycodex.cli.interactive_command import interactive_help

        sys.stdout.write(interactive_help())
        return 0
    from pycodex.cli.interactive_command import run_interactive

    if command == "resume":
        return run_interactive(rest, resume=True)
    # No command: the interactive agent, with the arguments as its options and prompt.
    return run_interactive(args)


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
            stream.flush()
        except (OSError, ValueError):
            code = code or 1  # a closed pipe: the output did not all arrive
    os._exit(code)
