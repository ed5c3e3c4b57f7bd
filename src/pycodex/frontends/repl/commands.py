"""Slash commands: which exist, what they say in `/help`, and how a typed line is classified.

A line is a command only when it starts with `/` followed by a word with no further `/`: so
`/a/b` (a path) and ` /help` (leading space) are sent to the model as ordinary messages.
"""

from __future__ import annotations

import re

from pycodex._records import dataclass


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    usage: str
    summary: str
    available: bool = True
    # Whether it may run while a turn streams (commands that replace the thread may not).
    during_turn: bool = True


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("help", "/help", "show this list"),
    CommandSpec("model", "/model [name]", "list the provider's models, or switch model"),
    CommandSpec("effort", "/effort [level]", "show or set the reasoning effort"),
    CommandSpec("new", "/new", "start a fresh conversation", during_turn=False),
    CommandSpec("history", "/history", "the messages you sent in this conversation"),
    CommandSpec("status", "/status", "model, provider, sandbox, approvals, ids and tokens"),
    CommandSpec("diff", "/diff", "git diff of the working directory"),
    CommandSpec("queue", "/queue <message>", "send a message after the current turn ends"),
    CommandSpec("compact", "/compact", "summarise the conversation to free context"),
    CommandSpec("resume", "/resume [id]", "continue a recorded session"),
    CommandSpec("fork", "/fork", "branch this conversation into a new session"),
    CommandSpec("title", "/title [text]", "name this session"),
    CommandSpec("agents", "/agents [name|off]", "list sub-agents, or follow one"),
    CommandSpec("memories", "/memories", "what pycodex remembers from earlier sessions"),
    CommandSpec("exit", "/exit", "leave pycodex"),
    CommandSpec("quit", "/quit", "leave pycodex"),
)
_BY_NAME = {spec.name: spec for spec in COMMANDS}
_COMMAND = re.compile(r"/(?P<name>[^\s/]+)(?:\s+(?P<args>.*))?", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Message:
    """Text for the model."""

    text: str


@dataclass(frozen=True, slots=True)
class Command:
    spec: CommandSpec
    args: str


@dataclass(frozen=True, slots=True)
class UnknownCommand:
    name: str


ParsedLine = Message | Command | UnknownCommand | None


def parse_line(line: str) -> ParsedLine:
    """Classify one submitted line; None for a blank line."""
    if not line.strip():
        return None
    match = _COMMAND.fullmatch(line.rstrip())
    if match is None:
        return Message(line)
    name = match.group("name")
    spec = _BY_NAME.get(name.lower())
    if spec is None:
        return UnknownCommand(name)
    return Command(spec, (match.group("args") or "").strip())


def help_lines() -> list[str]:
    width = max(len(spec.usage) for spec in COMMANDS)
    lines = []
    for spec in COMMANDS:
        note = "" if spec.available else " (not available yet)"
        lines.append(f"{spec.usage.ljust(width)}  {spec.summary}{note}")
    lines.append("")
    lines.append("Enter sends; Alt-Enter or Ctrl-J adds a line. Typing during a turn steers it.")
    lines.append("Ctrl-C interrupts a turn; Ctrl-C twice on an empty line, or Ctrl-D, exits.")
    return lines
