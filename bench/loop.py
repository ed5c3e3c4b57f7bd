"""Per-iteration overhead of the turn loop, and how it grows with history length.

Method: one turn of N tool round trips (a trivial in-process tool) against the zero-latency fake
server, run through `AgentLoop` in this process. The baseline sends the same N+1 requests with
exactly the request bodies the loop sent through pycodex's own HTTP client (the transport the
loop uses, so connection handling is identical), reading the same SSE replies as raw bytes, so
`(loop - baseline) / N` is what the harness itself costs per iteration: prompt building,
serialization, SSE decoding into typed events, dispatch, recording. Each figure is the median of
several runs after a warm-up turn. Measured at N = 10 and N = 200: a flat per-iteration cost
means nothing is quadratic in history length (the request body itself grows linearly, so
serializing it grows too).

Nagle: the same kind of turn (50 tool calls, then a final message) against a fake server that
writes each response's head and events without `TCP_NODELAY` (Nagle on, like many real model
servers) and one that sets it (Nagle off), the two taking turns run by run. A client that delays
its ACKs waits ~40 ms per response on the first kind; the ratio on/off shows whether it does.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import Table, use_test_support


async def _agent_turn(server: Any, iterations: int) -> float:
    from pycodex import AgentLoop, BaseTool, ContextManager, ToolRegistry
    from pycodex.protocol.policies import SandboxPolicy
    from support.clients import fake_client

    class Nop(BaseTool):
        name = "nop"
        description = "Does nothing."
        input_schema = {"type": "object", "properties": {}}

        async def run(self, context: Any, args: Any) -> str:
            return "ok"

    context = ContextManager(base_instructions="bench", cwd=Path.cwd(),
                             sandbox_policy=SandboxPolicy.read_only())  # fmt: skip
    agent = AgentLoop(fake_client(server), ToolRegistry([Nop()]), context)
    started = time.perf_counter()
    await agent.run_turn("loop")
    elapsed = time.perf_counter() - started
    await agent.aclose()
    return elapsed


async def _raw_requests(server: Any, bodies: list[bytes]) -> float:
    """The same request bodies, posted and streamed back with the bare transport."""
    from pycodex.client.transport import HttpClient

    headers = {"content-type": "application/json", "accept": "text/event-stream"}
    async with HttpClient() as client:
        started = time.perf_counter()
        for body in bodies:
            url = server.url("/v1/responses")
            async with client.stream("POST", url, headers=headers, content=body) as reply:
                async for _chunk in reply.aiter_bytes():
                    pass
        return time.perf_counter() - started


def _script(server: Any, iterations: int) -> None:
    from support import sse_builders as sse

    for index in range(iterations):
        call = sse.function_call("nop", "{}", call_id=f"c{index}", id=f"fc{index}")
        server.expect_sse("/v1/responses", sse.tool_calls(call))
    server.expect_sse("/v1/responses", sse.assistant_reply("done"))


def measure(iterations: int, nodelay: bool = True) -> tuple[float, float]:
    from support.fake_server import FakeModelServer

    with FakeModelServer(nodelay=nodelay) as server:
        _script(server, iterations)
        loop_s = asyncio.run(_agent_turn(server, iterations))
        bodies = [request.body_bytes for request in server.requests]
        _script(server, iterations)
        raw_s = asyncio.run(_raw_requests(server, bodies))
    return loop_s, raw_s


RUNS = {10: 15, 200: 3}
NAGLE_CALLS = 50
NAGLE_RUNS = 5


def nagle_turns() -> dict[bool, float]:
    """Median wall time of a 50-call turn against a Nagle-on (False) and a Nagle-off (True)
    server, interleaved run by run."""
    samples: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(NAGLE_RUNS):
        for nodelay in (False, True):
            samples[nodelay].append(measure_turn(NAGLE_CALLS, nodelay))
    return {nodelay: statistics.median(values) for nodelay, values in samples.items()}


def measure_turn(iterations: int, nodelay: bool) -> float:
    from support.fake_server import FakeModelServer

    with FakeModelServer(nodelay=nodelay) as server:
        _script(server, iterations)
        return asyncio.run(_agent_turn(server, iterations))


def run(table: Table) -> None:
    use_test_support()
    measure(10)  # warm-up: first-use imports (tools, transport) are start-up, not iterations
    per_iteration = {}
    for iterations, runs in RUNS.items():
        samples = [measure(iterations) for _ in range(runs)]
        loop_s = statistics.median(sample[0] for sample in samples)
        raw_s = statistics.median(sample[1] for sample in samples)
        per_iteration[iterations] = (loop_s - raw_s) / iterations
        table.add(
            f"loop: {iterations} tool round trips",
            f"{loop_s * 1000:.0f} ms",
            f"bare HTTP {raw_s * 1000:.0f} ms; harness {per_iteration[iterations] * 1000:.2f} "
            "ms/iteration",
        )
    growth = per_iteration[200] / per_iteration[10] if per_iteration[10] > 0 else float("nan")
    turns = nagle_turns()
    table.add(
        f"loop: {NAGLE_CALLS}-call turn, Nagle-on server",
        f"{turns[False] * 1000:.0f} ms",
        f"{turns[False] / turns[True]:.2f}x the Nagle-off server's {turns[True] * 1000:.0f} ms "
        "(~1x: no delayed-ACK stalls)",
    )
    table.add("loop: per-iteration cost 200 vs 10", f"{growth:.2f}x", "flat means ~1x")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table.add("memory: peak RSS after the 200-iteration turn", f"{rss_mb:.0f} MB", "this process")
