"""Matchers: which calls a group's `matcher` selects (upstream's rules).

Absent, `""` and `"*"` select everything. A matcher made only of letters, digits, `_` and `|`
is a list of exact names (`"Bash"`, `"Edit|Write"`; `"Ba"` and `"bash"` select nothing for
`Bash`). Anything else is a regular expression searched anywhere in the name (`"^Ba"`,
`"mcp__.*__write.*"`); upstream uses Rust's regex crate, we use Python's `re`, which agree on
the patterns people write for tool names. A call matches when its name or any alias does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

_EXACT = re.compile(r"[A-Za-z0-9_|]*")


def matcher_problem(matcher: str) -> str | None:
    """Why `matcher` cannot be used (an invalid regular expression), or None."""
    if _matches_everything(matcher) or _EXACT.fullmatch(matcher):
        return None
    try:
        _compiled(matcher)
    except re.error as err:
        return str(err)
    return None


def matches(matcher: str | None, names: Sequence[str]) -> bool:
    """Does a group with `matcher` run for a call known by `names` (canonical name first)?"""
    if matcher is None or _matches_everything(matcher):
        return True
    if _EXACT.fullmatch(matcher):
        wanted = matcher.split("|")
        return any(name in wanted for name in names)
    try:
        pattern = _compiled(matcher)
    except re.error:
        return False
    return any(pattern.search(name) is not None for name in names)


def _matches_everything(matcher: str) -> bool:
    return matcher in ("", "*")


@lru_cache(maxsize=256)
def _compiled(matcher: str) -> re.Pattern[str]:
    return re.compile(matcher)
