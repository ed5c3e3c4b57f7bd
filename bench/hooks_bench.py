"""Hooks: the latency a PreToolUse hook adds to each tool call.

Method: a root thread started through `ThreadManager` in this process, against the fake model
server, runs one turn of CALLS sequential `exec_command` calls (`true`), then answers. The same
turn runs without hooks (the baseline) and with one PreToolUse hook that reads its payload and
exits (`cat >/dev/null`), the variants taking turns run by run. The hook runs as upstream runs
it, `$SHELL -lc "<command>"`: once with `SHELL=/bin/sh` (the cost of the mechanism) and once
with `SHELL=/bin/bash` (a login bash reads the user's profile, so this figure is the machine's).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Table, use_test_support

CALLS = 10
RUNS = 5


def _config(server: Any, home: Path, hooked: bool) -> Any:
    from pycodex.config import Config, ModelProviderInfo
    from pycodex.protocol.policies import AskForApproval, SandboxMode

    provider = ModelProviderInfo(
        id="fake", name="Fake", base_url=server.base_url, env_key="FAKE_KEY",
        request_max_retries=0, stream_max_retries=0,
    )  # fmt: skip
    group = {"matcher": "Bash", "hooks": [{"type": "command", "command": "cat >/dev/null"}]}
    return Config(
        codex_home=home, cwd=home, model="bench-model", model_provider_id="fake",
        model_provider=provider, approval_policy=AskForApproval.NEVER,
        sandbox_mode=SandboxMode.DANGER_FULL_ACCESS, ephemeral=True, env={"FAKE_KEY": "k"},
        features={"unified_exec": True}, hooks={"PreToolUse": [group]} if hooked else {},
        bypass_hook_trust=hooked,
    )  # fmt: skip


def _script(server: Any) -> None:
    from support import sse_builders as sse

    args = json.dumps({"cmd": "true", "login": False})
    for index in range(CALLS):
        call = sse.function_call("exec_command", args, call_id=f"c{index}")
        server.expect_sse("/v1/responses", sse.tool_calls(call))
    server.expect_sse("/v1/responses", sse.assistant_reply("done"))


async def _turn(config: Any) -> float:
    from pycodex.agent.threads import ThreadManager
    from pycodex.protocol import events as ev
    from pycodex.protocol.ops import Shutdown, UserTurn

    manager = ThreadManager(config, originator="bench")
    root = manager.start_thread(source="exec")
    runner = asyncio.create_task(root.engine.run())
    started = time.perf_counter()
    root.engine.submit(UserTurn.text("go"))
    elapsed = 0.0
    async for event in root.engine.events():
        if isinstance(event, ev.TurnComplete):
            assert not event.failed, "the bench turn failed"
            elapsed = time.perf_counter() - started
            root.engine.submit(Shutdown())
    await runner
    await manager.shutdown()
    return elapsed


def measure(server: Any, home: Path, hooked: bool, shell: str) -> float:
    os.environ["SHELL"] = shell
    _script(server)
    elapsed = asyncio.run(_turn(_config(server, home, hooked)))
    server.assert_done()
    return elapsed


def run(table: Table) -> None:
    use_test_support()
    from support.fake_server import FakeModelServer

    saved = os.environ.get("SHELL")
    variants = {"none": (False, "/bin/sh"), "sh": (True, "/bin/sh"), "bash": (True, "/bin/bash")}
    samples: dict[str, list[float]] = {name: [] for name in variants}
    try:
        with tempfile.TemporaryDirectory() as tmp, FakeModelServer() as server:
            home = Path(tmp)
            for hooked, shell in variants.values():  # warm-up: first-use imports
                measure(server, home, hooked, shell)
            for _ in range(RUNS):
                for name, (hooked, shell) in variants.items():
                    samples[name].append(measure(server, home, hooked, shell))
    finally:
        if saved is None:
            os.environ.pop("SHELL", None)
        else:
            os.environ["SHELL"] = saved
    base, sh, bash = (statistics.median(samples[k]) for k in ("none", "sh", "bash"))
    table.add(f"hooks: turn of {CALLS} tool calls, no hooks", f"{base * 1000:.0f} ms", "baseline")
    for label, value in (("sh -lc", sh), ("bash -lc", bash)):
        per_call = (value - base) / CALLS * 1000
        table.add(
            f"hooks: same turn, a PreToolUse hook via {label}",
            f"{value * 1000:.0f} ms",
            f"{value / base:.2f}x the baseline; +{per_call:.1f} ms per tool call",
        )
