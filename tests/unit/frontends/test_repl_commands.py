"""Slash-command parsing, the context-left percentage, and request_user_input answers."""

from __future__ import annotations

import pytest

from pycodex.frontends.repl.commands import (
    Command,
    Message,
    UnknownCommand,
    help_lines,
    parse_line,
)
from pycodex.frontends.repl.usage import percent_context_left
from pycodex.frontends.repl.user_input import choose, question_text
from pycodex.protocol.usage import TokenUsage
from pycodex.tools.builtin.user_input import UserInputOption, UserInputQuestion


def test_commands_and_messages_are_told_apart() -> None:
    parsed = parse_line("/model gpt-5 ")
    assert isinstance(parsed, Command) and parsed.spec.name == "model" and parsed.args == "gpt-5"
    assert parse_line("/a/b") == Message("/a/b")
    assert parse_line(" /help") == Message(" /help")
    assert parse_line("/nope") == UnknownCommand("nope")
    assert parse_line("   ") is None
    queued = parse_line("/queue then run /tmp/x.sh\nplease")
    assert isinstance(queued, Command) and queued.args == "then run /tmp/x.sh\nplease"


def test_help_lists_every_command_as_available() -> None:
    lines = help_lines()
    for command in ("/compact", "/resume [id]", "/fork", "/title [text]", "/model [name]"):
        assert any(line.startswith(command) and "not available" not in line for line in lines)


@pytest.mark.parametrize(
    ("total", "window", "expected"),
    [
        (None, None, 100),
        (12_000, None, 100),  # the baseline counts as already used
        (5_000, None, 100),
        (130_000, 100_000, 0),
        (50_000, 100_000, 54),  # (83000 - 38000) / 83000, with 83000 = 95% of 100000 - 12000
        (1_000, 10_000, 0),  # window smaller than the baseline
    ],
)
def test_percent_context_left(total: int | None, window: int | None, expected: int) -> None:
    last = None if total is None else TokenUsage(total_tokens=total)
    assert percent_context_left(last, window) == expected


QUESTION = UserInputQuestion(
    id="db",
    header="Database",
    question="Which database should the app use?",
    options=[
        UserInputOption(label="SQLite", description="One file, no server."),
        UserInputOption(label="Postgres", description="A real server."),
    ],
)


def test_user_input_choices() -> None:
    assert "  2. Postgres — A real server." in question_text(QUESTION)
    assert choose(QUESTION, "2") == "Postgres"
    assert choose(QUESTION, "") == "SQLite"
    assert choose(QUESTION, "postgres") == "Postgres"
    assert choose(QUESTION, "9") == "9"
    assert choose(QUESTION, "MySQL please") == "MySQL please"
