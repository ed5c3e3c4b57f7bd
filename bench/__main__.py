"""`python -m bench [section ...]`: run the benchmarks and print one Markdown table.

With no arguments, every section of `SECTIONS`. `peers` (the comparison with upstream codex and
python-codex) only runs with PYCODEX_BENCH_PEERS=1, which also adds LiteLLM's proxy to `serve`;
otherwise it adds a "skipped" row (and `app-server` skips its upstream figures). The sections of
`ON_REQUEST` run only when named (`instructions`: valgrind instruction counts of start-up and the
loop, a few minutes; `local`: the real local model, long, and it installs the model when
missing).

A section is one row of `MODULES`: the `bench` module whose `run(table)` fills it.
"""

from __future__ import annotations

import importlib
import platform
import sys
from datetime import date

from bench.common import Table

MODULES = {
    "startup": "startup",
    "mcp": "mcp_bench",
    "loop": "loop",
    "sse": "sse_bench",
    "items": "items_bench",
    "tools": "tools_bench",
    "sandbox": "sandbox_bench",
    "sessions": "rollout_bench",
    "compaction": "compaction_bench",
    "serve": "serve_bench",
    "subagents": "subagents_bench",
    "batch": "batch_bench",
    "hooks": "hooks_bench",
    "memories": "memories_bench",
    "app-server": "app_server_bench",
    "peers": "peers",
    "instructions": "instructions_bench",
    "local": "local_bench",
}
ON_REQUEST = ("instructions", "local")
SECTIONS = tuple(name for name in MODULES if name not in ON_REQUEST)


def _sse(table: Table) -> None:
    from bench import sse_bench

    results = sse_bench.run()
    for name, value in results.items():
        table.add(f"sse: {name}", f"{value:.3g}", "")
    for name, value, note in sse_bench.network_rows(sse_bench.run_network()):
        table.add(name, value, note)


def main(argv: list[str]) -> int:
    chosen = argv or list(SECTIONS)
    unknown = [section for section in chosen if section not in MODULES]
    if unknown:
        print(f"unknown section {unknown[0]!r}; choose from {', '.join(MODULES)}")
        return 2
    table = Table()
    for section in chosen:
        print(f"[{section}]", file=sys.stderr, flush=True)
        if section == "sse":
            _sse(table)
        else:
            importlib.import_module(f"bench.{MODULES[section]}").run(table)
    print(f"pycodex benchmarks, {date.today()}, {platform.machine()}, {platform.python_version()}")
    print(table.render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
