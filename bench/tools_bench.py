"""Tool costs: `exec_command` of `true` and apply_patch of a 1,000-line file change.

exec_command is measured through the real tool (ProcessManager, PTY-less pipes, event emission,
output formatting) with `login: false`, against a baseline of spawning the same `/bin/bash -c true`
with `asyncio.create_subprocess_exec` in the same run; the difference is our per-call overhead.
The two take turns, 30 runs each after a warm-up, and the medians are compared. (A login shell,
`bash -lc`, costs whatever the machine's profile scripts cost: reported too.) apply_patch rewrites
every other line of a 1,000-line file in one patch of 500 chunks; median of 5 fresh files.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import Table

RUNS = 30
PATCH_RUNS = 5


async def _tool_call(cmd: str, login: bool) -> None:
    import json

    from pycodex.protocol.items import FunctionCall
    from pycodex.protocol.policies import SandboxPolicy
    from pycodex.tools.base import ToolContext
    from pycodex.tools.builtin.unified_exec import ExecCommandTool, UnifiedExecState
    from pycodex.tools.registry import ToolRegistry, dispatch

    state = UnifiedExecState()
    registry = ToolRegistry([ExecCommandTool(state)])
    call = FunctionCall(name="exec_command", call_id="c",
                        arguments=json.dumps({"cmd": cmd, "login": login}))  # fmt: skip
    context = ToolContext(call_id="c", turn_id="t", cwd=Path.cwd(),
                          sandbox_policy=SandboxPolicy.full_access())  # fmt: skip
    _item, output = await dispatch(registry, call, context)
    assert "exited with code 0" in output.text, output.text


async def _bare_spawn() -> None:
    process = await asyncio.create_subprocess_exec(
        "/bin/bash", "-c", "true", stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    await process.communicate()


async def _interleaved_medians(work: dict[str, object], runs: int = RUNS) -> dict[str, float]:
    """Median seconds of each coroutine factory; they take turns, after one warm-up round."""
    samples: dict[str, list[float]] = {name: [] for name in work}
    for index in range(runs + 1):
        for name, factory in work.items():
            started = time.perf_counter()
            await factory()  # type: ignore[operator]
            if index:
                samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def _patch_case(directory: Path) -> str:
    lines = [f"line {i}" for i in range(1000)]
    (directory / "big.txt").write_text("\n".join(lines) + "\n")
    chunks = []
    for i in range(0, 1000, 2):
        chunks.append(f"@@\n-line {i}\n+LINE {i}\n line {i + 1}")
    return "*** Begin Patch\n*** Update File: big.txt\n" + "\n".join(chunks) + "\n*** End Patch\n"


def run(table: Table) -> None:
    times = asyncio.run(
        _interleaved_medians({"tool": lambda: _tool_call("true", login=False), "bare": _bare_spawn})
    )
    tool, bare = times["tool"], times["bare"]
    login = asyncio.run(
        _interleaved_medians({"login": lambda: _tool_call("true", login=True)}, runs=10)
    )["login"]
    table.add("tools: spawn bash -c true (bare asyncio)", f"{bare * 1000:.2f} ms", "baseline")
    table.add(
        "tools: exec_command true (login=false)",
        f"{tool * 1000:.2f} ms",
        f"overhead {(tool - bare) * 1000:.2f} ms/call over bare spawn",
    )
    table.add("tools: exec_command true (bash -lc)", f"{login * 1000:.1f} ms", "profile scripts")
    from pycodex.apply_patch import apply_patch_text

    samples = []
    for _ in range(PATCH_RUNS):
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            patch = _patch_case(directory)
            started = time.perf_counter()
            apply_patch_text(patch, directory)
            samples.append(time.perf_counter() - started)
    elapsed = statistics.median(samples)
    table.add(
        "tools: apply_patch 1,000-line file, 500 chunks",
        f"{elapsed * 1000:.1f} ms",
        f"median of {PATCH_RUNS}",
    )
