"""`python -m bench [section ...]`: run the benchmarks and print one Markdown table.

Sections: startup, loop, sse, tools, sessions, compaction, serve, peers. With no arguments, all
of them. `peers` (the comparison with upstream codex and python-codex) only runs with
PYCODEX_BENCH_PEERS=1, which also adds LiteLLM's proxy to `serve`; otherwise each adds a
"skipped" row.
"""

from __future__ import annotations

import platform
import sys
from datetime import date

from bench.common import Table


def _sse(table: Table) -> None:
    from bench import sse_bench

    results = sse_bench.run()
    for name, value in results.items():
        table.add(f"sse: {name}", f"{value:.3g}", "")


SECTIONS = ("startup", "loop", "sse", "tools", "sessions", "compaction", "serve", "peers")


def main(argv: list[str]) -> int:
    chosen = argv or list(SECTIONS)
    table = Table()
    for section in chosen:
        print(f"[{section}]", file=sys.stderr, flush=True)
        if section == "startup":
            from bench import startup

            startup.run(table)
        elif section == "loop":
            from bench import loop

            loop.run(table)
        elif section == "sse":
            _sse(table)
        elif section == "sessions":
            from bench import rollout_bench

            rollout_bench.run(table)
        elif section == "compaction":
            from bench import compaction_bench

            compaction_bench.run(table)
        elif section == "serve":
            from bench import serve_bench

            serve_bench.run(table)
        elif section == "tools":
            from bench import tools_bench

            tools_bench.run(table)
        elif section == "peers":
            from bench import peers

            peers.run(table)
        else:
            print(f"unknown section {section!r}; choose from {', '.join(SECTIONS)}")
            return 2
    print(f"pycodex benchmarks, {date.today()}, {platform.machine()}, {platform.python_version()}")
    print(table.render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
