"""Tool costs: `exec_command` of `true` and apply_patch of a 1,000-line file change.

exec_command is measured through the real tool (ProcessManager, PTY-less pipes, event emission,
output formatting) with `login: false`, against a baseline of spawning the same `/bin/bash -c true`
with `asyncio.create_subprocess_exec` in the same run; the difference is our per-call overhead.
(A login shell, `bash -lc`, costs whatever the machine's profile scripts cost: reported too.)
apply_patch rewrites every other line of a 1,000-line file in one patch of 500 chunks.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import Table

RUNS = 30


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


async def _median(factory: object, runs: int = RUNS) -> float:
    samples = []
    for index in range(runs + 1):
        started = time.perf_counter()
        await factory()  # type: ignore[operator]
        if index:
            samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _patch_case(directory: Path) -> str:
    lines = [f"line {i}" for i in range(1000)]
    (directory / "big.txt").write_text("\n".join(lines) + "\n")
    chunks = []
    for i in range(0, 1000, 2):
        chunks.append(f"@@\n-line {i}\n+LINE {i}\n line {i + 1}")
    return "*** Begin Patch\n*** Update File: big.txt\n" + "\n".join(chunks) + "\n*** End Patch\n"


def run(table: Table) -> None:
    tool = asyncio.run(_median(lambda: _tool_call("true", login=False)))
    bare = asyncio.run(_median(_bare_spawn))
    login = asyncio.run(_median(lambda: _tool_call("true", login=True), runs=10))
    table.add("tools: spawn bash -c true (bare asyncio)", f"{bare * 1000:.2f} ms", "baseline")
    table.add(
        "tools: exec_command true (login=false)",
        f"{tool * 1000:.2f} ms",
        f"overhead {(tool - bare) * 1000:.2f} ms/call over bare spawn",
    )
    table.add("tools: exec_command true (bash -lc)", f"{login * 1000:.1f} ms", "profile scripts")
    from pycodex.apply_patch import apply_patch_text

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        patch = _patch_case(directory)
        started = time.perf_counter()
        apply_patch_text(patch, directory)
        elapsed = time.perf_counter() - started
    table.add("tools: apply_patch 1,000-line file, 500 chunks", f"{elapsed * 1000:.1f} ms", "")
