"""MCP start-up cost: one-request `pycodex exec --json`, median of N interleaved runs, with no
MCP server, with one stdlib server (starts as fast as an interpreter: what is left is
pycodex's own cost, mostly importing the `mcp` SDK and the handshake), and with one server built
on the `mcp` SDK (what users of Python MCP servers see: its own start-up, which pycodex
overlaps with its import of the SDK). The SDK server alone (spawned, answering `initialize`) is
timed too, interleaved with the rest: the floor of any client that waits for it.

Before/after: with `PYCODEX_BENCH_BASELINE_SRC=/path/to/other/src` (e.g. main's `src` from
`git archive`), the two server configurations also run with that tree first on `PYTHONPATH`,
interleaved with the rest, and each is reported as a ratio against its baseline-tree twin.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import Table, interleaved_medians, use_test_support
from bench.startup import _exec_env, _pycodex_command, _run, _write_bytecode

BASELINE = " (baseline tree)"

RUNS = 7


def run(table: Table) -> None:
    _write_bytecode()
    use_test_support()
    from support import sse_builders as sse
    from support.cli import write_config
    from support.fake_server import FakeModelServer
    from support.mcp_servers import probe_table
    from support.mcp_servers import table as server_table

    stdlib = str(Path(__file__).resolve().parent.parent / "tests/support/mcp_stdlib_server.py")
    configs = {
        "none": "",
        "stdlib": server_table("ping", command=sys.executable, args=[stdlib]),
        "sdk": probe_table(),
    }
    other = os.environ.get("PYCODEX_BENCH_BASELINE_SRC")
    if other:
        _write_bytecode(Path(other) / "pycodex")
    with tempfile.TemporaryDirectory() as tmp, FakeModelServer() as server:
        work = {}
        for name, servers in configs.items():
            home = Path(tmp) / name
            write_config(home, server, servers)
            args = [*_pycodex_command(sys.executable), "exec", "--json", "--skip-git-repo-check"]
            work[name] = _one_exec(server, sse, [*args, "hi"], _exec_env(home), home)
            if other and servers:
                other_env = {**_exec_env(home), "PYTHONPATH": other}
                work[name + BASELINE] = _one_exec(server, sse, [*args, "hi"], other_env, home)
        work["sdk server alone"] = _server_alone()
        times = interleaved_medians(work, RUNS)
    none, stdlib_time, sdk = times["none"], times["stdlib"], times["sdk"]
    table.add("mcp: exec, no MCP server", f"{none * 1000:.0f} ms", "baseline")
    table.add(
        "mcp: exec, one stdlib MCP server",
        f"{stdlib_time * 1000:.0f} ms",
        f"{stdlib_time / none:.1f}x baseline, +{(stdlib_time - none) * 1000:.0f} ms "
        "(pycodex's own cost)",
    )
    table.add(
        "mcp: exec, one mcp-SDK server",
        f"{sdk * 1000:.0f} ms",
        f"{sdk / none:.1f}x baseline, +{(sdk - none) * 1000:.0f} ms "
        "(the server's own start-up, overlapped with ours)",
    )
    alone = times["sdk server alone"]
    table.add(
        "mcp: the mcp-SDK server alone, to its initialize answer",
        f"{alone * 1000:.0f} ms",
        f"exec with it takes {sdk / alone:.2f}x this ({(sdk - alone) * 1000:+.0f} ms)",
    )
    for name, label in (("stdlib", "one stdlib MCP server"), ("sdk", "one mcp-SDK server")):
        if name + BASELINE in times:
            before, after = times[name + BASELINE], times[name]
            table.add(
                f"mcp: exec, {label}, baseline tree",
                f"{before * 1000:.0f} ms",
                f"this tree {after / before:.2f}x the baseline tree "
                f"({(after - before) * 1000:+.0f} ms)",
            )


def _one_exec(server, sse, args: list[str], env: dict[str, str], cwd: Path):  # type: ignore[no-untyped-def]
    def once() -> None:
        server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
        _run(args, env, cwd=cwd)

    return once


def _server_alone():  # type: ignore[no-untyped-def]
    """Start the probe server, wait for its answer to `initialize`, close its stdin."""
    import json

    from support.mcp_servers import PROBE

    argv = [sys.executable, str(PROBE), "stdio"]
    initialize = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "1"},
        },
    }
    line = (json.dumps(initialize) + "\n").encode()

    def once() -> None:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(line)
        proc.stdin.flush()
        answer = proc.stdout.readline()
        assert b'"result"' in answer, f"the probe server did not answer: {answer!r}"
        proc.stdin.close()
        proc.wait(timeout=30)
        proc.stdout.close()

    return once
