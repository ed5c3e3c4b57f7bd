"""The three small tasks the real local model is tried on (tests/realmodel and `bench/run local`),
each in a fresh git repository, with the checks that decide whether the work was done.

The checks look at the work, not the model's wording: the file runs, the tests pass, the answer
holds the right number; and that the agent ran what the task asked it to run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CALC = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TEST_CALC = (
    "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_mul():\n    assert mul(2, 3) == 6\n"
)
PROMPTS = {
    "hello": "Create a file hello.py that prints Hello, world! and run it.",
    "calc": "The tests in test_calc.py fail. Fix calc.py so that `python3 -m pytest -q` passes.",
    "count": "How many .txt files are in this directory (not in subdirectories)?",
}
TASKS = tuple(PROMPTS)


def task_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The user's environment, with this interpreter's python3 (it has pytest) first on PATH and
    none of this project's pytest plugins loading in the task's repository."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if not k.startswith(("PYTEST_", "OPENAI_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return env


def repository(root: Path, name: str) -> Path:
    repo = root / name
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    if name == "calc":
        (repo / "calc.py").write_text(CALC)
        (repo / "test_calc.py").write_text(TEST_CALC)
    if name == "count":
        for file in ("a.txt", "b.txt", "notes.txt", "todo.txt", "readme.md", "main.py"):
            (repo / file).write_text("x\n")
        (repo / "sub").mkdir()
        (repo / "sub" / "deep.txt").write_text("x\n")
    return repo


@dataclass
class Run:
    """One `exec --json` run, read from its JSON lines."""

    returncode: int
    stdout: str
    stderr: str
    wall_s: float = 0.0
    events: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.events = []
        for line in self.stdout.splitlines():
            try:
                self.events.append(json.loads(line))
            except ValueError:
                continue

    def items(self, kind: str) -> list[dict[str, Any]]:
        done = [e["item"] for e in self.events if e.get("type") == "item.completed"]
        return [item for item in done if item.get("type") == kind]

    @property
    def answer(self) -> str:
        messages = self.items("agent_message")
        return str(messages[-1]["text"]) if messages else ""

    def transcript(self) -> str:
        lines = [
            f"$ {c['command']} -> {c['exit_code']}\n{c['aggregated_output']}"
            for c in self.items("command_execution")
        ]
        return "\n".join([*lines, f"answer: {self.answer}", self.stderr[-2000:]])


def machinery_problem(run: Run) -> str | None:
    """What went wrong that is pycodex's fault, not the model's: the run failed, the turn did not
    complete, or the model's call came back as text (the template's call shape not parsed)."""
    if run.returncode != 0:
        return f"exit code {run.returncode}"
    if not any(event.get("type") == "turn.completed" for event in run.events):
        return "the turn did not complete"
    for message in run.items("agent_message"):
        if re.search(r'```json\s*\{\s*"name"', message["text"]):
            return "a function call came back as text (not parsed by the server)"
    return None


def check(name: str, repo: Path, run: Run) -> str | None:
    """None when the task was done, else what is wrong."""
    if run.returncode != 0:
        return f"exit code {run.returncode}"
    commands = run.items("command_execution")
    if name == "hello":
        out = subprocess.run([sys.executable, "hello.py"], cwd=repo, capture_output=True, text=True)
        if out.stdout.strip() != "Hello, world!":
            return f"hello.py printed {out.stdout.strip()[:80]!r}"
        ran = [c for c in commands if "hello.py" in c["command"] and c["exit_code"] == 0]
        if not any("Hello, world!" in c["aggregated_output"] for c in ran):
            return "hello.py was never run"
        return None
    if name == "calc":
        tests = subprocess.run(
            [sys.executable, "-m", "pytest", "-q"], cwd=repo, env=task_env(), capture_output=True
        )
        if tests.returncode != 0:
            return "the tests still fail"
        if (repo / "test_calc.py").read_text() != TEST_CALC:
            return "the tests were changed"
        if not [c for c in commands if "pytest" in c["command"] and c["exit_code"] == 0]:
            return "the agent never saw the tests pass"
        return None
    numbers = re.findall(r"\b\d+\b", run.answer)
    if "4" not in numbers or "5" in numbers:
        return f"answer {run.answer[:120]!r}"
    if not commands:
        return "answered without looking"
    return None
