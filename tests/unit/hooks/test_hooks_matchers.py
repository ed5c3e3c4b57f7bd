"""Matchers as upstream reads them: exact names, `|` lists, regular expressions, aliases."""

from __future__ import annotations

import pytest

from pycodex.hooks.matchers import matcher_problem, matches

CASES = [
    (None, ("Bash",), True),
    ("", ("Bash",), True),
    ("*", ("Bash",), True),
    ("Bash", ("Bash",), True),
    ("Ba", ("Bash",), False),
    ("bash", ("Bash",), False),
    ("exec_command", ("Bash",), False),
    ("^Ba", ("Bash",), True),
    ("^(Bash|Edit)$", ("Bash",), True),
    ("^Bash$", ("BashOutput",), False),
    ("Edit|Write", ("apply_patch", "Edit", "Write"), True),
    ("Edit|Write", ("Bash",), False),
    ("mcp__memory", ("mcp__memory__create",), False),
    ("mcp__memory__.*", ("mcp__memory__create",), True),
    ("startup", ("startup",), True),
    ("startup", ("resume",), False),
]


@pytest.mark.parametrize(("matcher", "names", "expected"), CASES)
def test_matches(matcher: str | None, names: tuple[str, ...], expected: bool) -> None:
    assert matches(matcher, names) is expected


def test_invalid_regex_is_a_problem_and_matches_nothing() -> None:
    assert matcher_problem("[") is not None
    assert matcher_problem("^Ba") is None and matcher_problem("Edit|Write") is None
    assert not matches("[", ("Bash",))
