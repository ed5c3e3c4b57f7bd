"""Sub-agents run in parallel: the wall time of a turn that spawns children.

Method: a root thread started through `ThreadManager` in this process, against the fake model
server. Every child's model answer takes about 500 ms (the fake server spaces its frames). Three
turns, measured in the same run and taking turns:

- one child: spawn, wait, answer (the baseline);
- four children in parallel: four spawns in one response, then four waits in one response
  (wait_agent is read-only, so the waits run together);
- four children one after the other: spawn, wait, spawn, wait... (the serial figure).

The parent's own requests answer at once. With children in parallel, four children should cost
about what one costs (ratio near 1, well under 4); serially about four times as much.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Table, use_test_support

CHILD_ANSWER_S = 0.5
RUNS = 3


def _config(server: Any, home: Path) -> Any:
    from pycodex.config import Config, ModelProviderInfo
    from pycodex.protocol.policies import AskForApproval

    provider = ModelProviderInfo(
        id="fake", name="Fake", base_url=server.base_url, env_key="FAKE_KEY",
        request_max_retries=0, stream_max_retries=0,
    )  # fmt: skip
    return Config(
        codex_home=home, cwd=home, model="bench-model", model_provider_id="fake",
        model_provider=provider, approval_policy=AskForApproval.NEVER, ephemeral=True,
        env={"FAKE_KEY": "k"},
    )  # fmt: skip


def _call(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    from support import sse_builders as sse

    call = sse.function_call(name, json.dumps(arguments), call_id=call_id)
    return {**call, "namespace": "multi_agent_v1"}


def _spawned(request: Any) -> list[str]:
    return [
        json.loads(item["output"])["agent_id"]
        for item in request.json()["input"]
        if item.get("type") == "function_call_output" and item["call_id"].startswith("spawn")
    ]


def _script(server: Any, children: int, parallel: bool, tag: str) -> None:
    from support import sse_builders as sse
    from support.fake_server import user_message_contains

    for index in range(children):
        reply = sse.assistant_reply(f"done {index}")
        delay = CHILD_ANSWER_S / (len(reply) - 1)
        marker = f"{tag}-CHILD-{index}"
        server.expect_sse("/v1/responses", reply, delay_s=delay, when=user_message_contains(marker))
    spawn = [
        _call("spawn_agent", {"message": f"{tag}-CHILD-{i}"}, f"spawn{i}") for i in range(children)
    ]

    def waits(request: Any) -> list[dict[str, Any]]:
        ids = _spawned(request)
        calls = [
            _call("wait_agent", {"targets": [agent]}, f"wait{n}") for n, agent in enumerate(ids)
        ]
        return sse.tool_calls(*(calls if parallel else calls[-1:]))

    if parallel:
        server.expect_sse("/v1/responses", sse.tool_calls(*spawn))
        server.expect_sse_from("/v1/responses", waits)
    else:
        for call in spawn:
            server.expect_sse("/v1/responses", sse.tool_calls(call))
            server.expect_sse_from("/v1/responses", waits)
    server.expect_sse("/v1/responses", sse.assistant_reply("all done"))


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


def measure(server: Any, home: Path, children: int, parallel: bool, tag: str) -> float:
    _script(server, children, parallel, tag)
    elapsed = asyncio.run(_turn(_config(server, home)))
    server.assert_done()
    return elapsed


def run(table: Table) -> None:
    use_test_support()
    from support.fake_server import FakeModelServer

    samples: dict[str, list[float]] = {"one": [], "parallel": [], "serial": []}
    with tempfile.TemporaryDirectory() as tmp, FakeModelServer() as server:
        home = Path(tmp)
        measure(server, home, 1, True, "warm")  # first-use imports are start-up, not the turn
        for run_index in range(RUNS):
            samples["one"].append(measure(server, home, 1, True, f"a{run_index}"))
            samples["parallel"].append(measure(server, home, 4, True, f"b{run_index}"))
            samples["serial"].append(measure(server, home, 4, False, f"c{run_index}"))
    one, parallel, serial = (statistics.median(samples[k]) for k in ("one", "parallel", "serial"))
    table.add("subagents: turn with 1 child", f"{one * 1000:.0f} ms", "child answers in ~500 ms")
    table.add("subagents: turn with 4 children in parallel", f"{parallel * 1000:.0f} ms",
              f"{parallel / one:.2f}x the one-child turn")  # fmt: skip
    note = f"{serial / one:.2f}x the one-child turn; parallel is {parallel / serial:.2f}x serial"
    table.add("subagents: turn with 4 children one by one", f"{serial * 1000:.0f} ms", note)
