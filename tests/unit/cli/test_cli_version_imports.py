"""`pycodex --version` and `pycodex --help` load pycodex's entry module and nothing else.

Their whole cost should be the interpreter's: every module they import shows up as start-up time
in scripts that call `pycodex --version` to check the install (issue 24: target ≤ 1.15×
`python -c pass`). `collections.abc`, `typing`, `importlib` (with `warnings`) and `__future__`
were each imported on this path once.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
before = set(sys.modules)
from pycodex.cli.main import main
code = main([sys.argv[1]])
sys.stdout.flush()
print(json.dumps({"code": code, "new": sorted(set(sys.modules) - before)}), file=sys.stderr)
"""

ENTRY_MODULES = ["pycodex", "pycodex._lazy", "pycodex._version", "pycodex.cli", "pycodex.cli.main"]


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_import_only_the_entry_modules(flag: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, flag], capture_output=True, text=True, check=True
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "new": ENTRY_MODULES}
    assert done.stdout.startswith("pycodex " if flag == "--version" else "usage: pycodex")
