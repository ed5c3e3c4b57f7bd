"""Which program a command runs, with which words, when that can be known for sure.

Approval rules (`rules.PrefixRules`) and the known-safe list of `approvals` judge a command by its
words. That is only sound when the command is ONE simple command: a program and literal
arguments. A shell script (`bash -lc SCRIPT`, how `exec_command` runs everything) qualifies only
when it parses to exactly that; anything that could run a second program or change what the
first one gets does not:

- a newline, `;`, `&`, `|`, `&&`, `||` (a second command, or one in the background);
- `$` in any form (`$(...)`, `${...}`, `$VAR`, `$((...))`, `$'...'`), backticks, `<(...)`;
- redirections (`<`, `>`), subshells and groups (`(`, `)`, `{`, `}`), comments (`#`);
- a leading `NAME=value` assignment or a shell keyword (`if`, `for`, `coproc`, `time`, ...);
- a quote left open, or a backslash at the very end.

Quotes and backslash escapes are undone the way the shell would, so `ls 'a b'` is `ls` with the
word `a b`. Unquoted `*`, `?` and `[` make a glob the shell replaces with file names; the words
keep them literally and `globbed` says so (a file named `--pre=sh` would reach the program as an
option).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath

from pycodex._records import dataclass

SHELLS = frozenset({"bash", "sh", "dash", "zsh", "ksh", "mksh", "ash", "yash"})
# The `-c` forms pycodex's tools produce (`exec_command` runs `SHELL -lc CMD` or `SHELL -c CMD`).
SCRIPT_FLAGS = frozenset({"-c", "-lc", "-cl"})

_NOT_SIMPLE = frozenset("|&;<>()`${}\n\r")
_BLANKS = " \t"
_GLOB = frozenset("*?[")
_DOUBLE_QUOTE_ESCAPES = frozenset('"\\')
_KEYWORDS = frozenset(
    {"if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for",
     "select", "function", "time", "coproc", "!", "[[", "]]", "{", "}"}
)  # fmt: skip
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")


@dataclass(frozen=True, slots=True)
class SimpleCommand:
    """The words of one simple command; `globbed` when an unquoted glob character is in them."""

    words: tuple[str, ...]
    globbed: bool = False

    @property
    def program(self) -> str:
        return self.words[0]


def command_words(argv: Sequence[str]) -> SimpleCommand | None:
    """The simple command `argv` runs, or None when that cannot be known.

    `SHELL -c SCRIPT` (or `-lc`) stands for its script, when the script is one simple command.
    Any other shell invocation with options is opaque (None); every other argv is its own words.
    """
    if not argv:
        return None
    if PurePath(argv[0]).name in SHELLS:
        if len(argv) == 3 and argv[1] in SCRIPT_FLAGS:
            return parse_simple_command(argv[2])
        if any(arg.startswith("-") for arg in argv[1:]):
            return None
    return SimpleCommand(tuple(argv))


def parse_simple_command(script: str) -> SimpleCommand | None:
    """The words of `script` if it is one simple command (see the module docstring), else None."""
    words: list[str] = []
    current: list[str] = []
    in_word = globbed = False
    index = 0
    while index < len(script):
        char = script[index]
        if char in _BLANKS:
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
            index += 1
            continue
        if char in _NOT_SIMPLE or (char == "#" and not in_word):
            return None
        taken = _quoted_or_escaped(script, index)
        if taken is None:
            return None
        text, index = taken
        globbed = globbed or (char in _GLOB)
        current.append(text)
        in_word = True
    if in_word:
        words.append("".join(current))
    if not words or words[0] in _KEYWORDS or _ASSIGNMENT.match(words[0]):
        return None
    return SimpleCommand(tuple(words), globbed)


def _quoted_or_escaped(script: str, index: int) -> tuple[str, int] | None:
    """The literal text of the word piece at `index` and where the next piece starts."""
    char = script[index]
    if char == "'":
        end = script.find("'", index + 1)
        return None if end < 0 else (script[index + 1 : end], end + 1)
    if char == '"':
        return _double_quoted(script, index + 1)
    if char == "\\":
        if index + 1 >= len(script) or script[index + 1] in "\n\r":
            return None
        return script[index + 1], index + 2
    return char, index + 1


def _double_quoted(script: str, index: int) -> tuple[str, int] | None:
    text: list[str] = []
    while index < len(script):
        char = script[index]
        if char == '"':
            return "".join(text), index + 1
        if char in "$`\n\r":
            return None
        if char == "\\" and index + 1 < len(script) and script[index + 1] in _DOUBLE_QUOTE_ESCAPES:
            text.append(script[index + 1])
            index += 2
            continue
        text.append(char)
        index += 1
    return None
