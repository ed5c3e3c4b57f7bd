"""`pycodex rules`: list the command prefixes allowed for good, or remove one.

pycodex rules                     list them (from $CODEX_HOME/rules/default.rules)
pycodex rules remove npm run build
"""

from __future__ import annotations

import os
import sys

from pycodex.config import ConfigError, find_codex_home
from pycodex.tools.rules import RULES_FILE, load_rules, remove_rule


def run_rules_command(argv: list[str]) -> int:
    try:
        home = find_codex_home(os.environ)
    except ConfigError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    if not argv or argv == ["list"]:
        rules = load_rules(home)
        if not rules:
            sys.stdout.write(f"no allowed prefixes in {home / RULES_FILE}\n")
        for rule in rules:
            sys.stdout.write(" ".join(rule) + "\n")
        return 0
    if argv[0] == "remove" and len(argv) > 1:
        if remove_rule(home, argv[1:]):
            sys.stdout.write(f"removed: {' '.join(argv[1:])}\n")
            return 0
        sys.stderr.write(f"error: no rule allows exactly {' '.join(argv[1:])!r}\n")
        return 1
    sys.stderr.write("usage: pycodex rules [list | remove PREFIX...]\n")
    return 2
