"""`pycodex --help` lists every command from the one command table; `pycodex exec --help`
describes every flag in one line."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from pycodex.cli.exec_args import _build_parser
from pycodex.cli.main import COMMANDS


def _run(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run(
        [sys.executable, "-m", "pycodex", *args], capture_output=True, text=True, env=env,
        timeout=60, check=True,
    )  # fmt: skip
    return done.stdout


def test_top_level_help_lists_every_command_of_the_table() -> None:
    section = _run("--help").split("\ncommands:\n", 1)[1]
    listed = [line[2:].split("  ")[0] for line in section.splitlines()]
    expected = [shown for _name, shown, _summary, _handler in COMMANDS if shown]
    assert listed == expected
    assert {"exec", "exec resume", "resume", "sessions", "serve", "doctor"} <= set(expected)
    for name, shown, summary, handler in COMMANDS:
        assert name or handler is None  # a row without a name is a listing-only line
        assert bool(shown) == bool(summary)


def test_exec_help_describes_every_flag_in_one_line() -> None:
    text = _run("exec", "--help")
    for action in _build_parser()._actions:
        if action.help == argparse.SUPPRESS:
            continue
        assert action.help and "\n" not in action.help, action.option_strings
        for option in action.option_strings:
            assert option in text
        # at 100 columns no description wraps onto a second line
        assert action.help in text.replace("\n" + " " * 24, " ")
    assert "--include-plan-tool" not in text
