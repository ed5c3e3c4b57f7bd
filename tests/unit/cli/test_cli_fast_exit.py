"""`pycodex exec` ends with os._exit: buffered output must still arrive, exit codes must hold."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import sys
from pycodex.cli.main import _exit_now
sys.stdout.write("x" * int(sys.argv[2]))
sys.stderr.write("warning: still here\\n")
_exit_now(int(sys.argv[1]))
"""


def test_buffered_output_is_flushed_and_the_code_kept() -> None:
    for code in (0, 1, 2):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(code), "200000"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == code
        assert done.stdout == "x" * 200_000
        assert done.stderr == "warning: still here\n"


def test_a_closed_stdout_turns_success_into_failure() -> None:
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    reader = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, "0", "100"],  # small: it waits in the buffer until exit
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=buffered,
    )
    assert reader.stdout is not None
    reader.stdout.close()  # nobody reads: the final flush fails with a broken pipe
    assert reader.wait(timeout=60) == 1
    assert reader.stderr is not None
    assert b"Traceback" not in reader.stderr.read()
    reader.stderr.close()
