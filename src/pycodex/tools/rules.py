"""Command prefixes the user allowed: for this session, or for good in `$CODEX_HOME/rules/`.

Persisted rules live in `$CODEX_HOME/rules/default.rules`, one readable line per rule in the
format upstream Codex uses for its execution policy:

    prefix_rule(pattern=["npm", "run", "build"], decision="allow")

Lines that are blank, comments (`#`) or not of that form are kept in the file untouched and ignored
when matching. `pycodex rules` lists and removes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from pycodex._records import dataclass, field

RULES_FILE = Path("rules") / "default.rules"
# Compiled on first use (by `re`'s own cache): most sessions have no rules file to parse.
_RULE = r'^\s*prefix_rule\(\s*pattern\s*=\s*(\[.*?\])\s*,\s*decision\s*=\s*"allow"\s*\)'


def format_rule(prefix: Sequence[str]) -> str:
    return f'prefix_rule(pattern={json.dumps(list(prefix))}, decision="allow")'


def parse_rule(line: str) -> tuple[str, ...] | None:
    match = re.match(_RULE, line)
    if match is None:
        return None
    try:
        pattern = json.loads(match.group(1))
    except ValueError:
        return None
    if not isinstance(pattern, list) or not pattern or not all(isinstance(p, str) for p in pattern):
        return None
    return tuple(pattern)


def load_rules(codex_home: Path) -> list[tuple[str, ...]]:
    path = codex_home / RULES_FILE
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [rule for line in text.splitlines() if (rule := parse_rule(line)) is not None]


@dataclass
class PrefixRules:
    """Allowed prefixes: the persisted ones (read once) plus those approved this session."""

    codex_home: Path | None = None
    persisted: list[tuple[str, ...]] = field(default_factory=list)
    session: list[tuple[str, ...]] = field(default_factory=list)

    @classmethod
    def load(cls, codex_home: Path) -> PrefixRules:
        return cls(codex_home=codex_home, persisted=load_rules(codex_home))

    def allows(self, words: Sequence[str]) -> bool:
        """Whether a rule is a prefix of `words`: the words of ONE simple command
        (`simple_command.command_words`), never a raw shell script."""
        command = tuple(words)
        rules = [*self.persisted, *self.session]
        return any(rule and command[: len(rule)] == rule for rule in rules)

    def allow_for_session(self, prefix: Sequence[str]) -> None:
        if prefix:  # an empty prefix would allow everything
            self.session.append(tuple(prefix))

    def allow_always(self, prefix: Sequence[str]) -> None:
        """Persist the rule (appending one line), and use it at once."""
        rule = tuple(prefix)
        if not rule:
            return  # an empty prefix would allow everything
        self.persisted.append(rule)
        if self.codex_home is None:
            return
        path = self.codex_home / RULES_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(format_rule(rule) + "\n")


def remove_rule(codex_home: Path, prefix: Sequence[str]) -> bool:
    """Delete every line holding exactly this rule; True when one was found."""
    path = codex_home / RULES_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    kept = [line for line in lines if parse_rule(line) != tuple(prefix)]
    if len(kept) == len(lines):
        return False
    path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    return True
