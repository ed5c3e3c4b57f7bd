"""`pycodex apply-patch`: apply a patch read from stdin (or a file argument) to the cwd."""

from __future__ import annotations

import sys
from pathlib import Path

from pycodex.apply_patch import PatchError, apply_patch_text


def run_apply_patch_command(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        sys.stdout.write("usage: pycodex apply-patch [PATCH_FILE]  (reads stdin without one)\n")
        return 0
    if len(argv) > 1:
        sys.stderr.write("error: apply-patch takes at most one PATCH_FILE argument\n")
        return 2
    try:
        text = Path(argv[0]).read_text(encoding="utf-8") if argv else sys.stdin.read()
    except OSError as err:
        sys.stderr.write(f"error: cannot read {argv[0]}: {err.strerror}\n")
        return 2
    try:
        result = apply_patch_text(text, Path.cwd())
    except PatchError as err:
        sys.stderr.write(f"{err}\n")
        return 1
    sys.stdout.write(result.summary())
    return 0
