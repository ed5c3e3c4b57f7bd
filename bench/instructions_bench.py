"""Instructions executed (valgrind cachegrind `I refs`) by start-up and the loop.

On a shared machine the wall-clock figures of `startup` and `loop` move by tens of percent from
run to run, far more than most changes cost. The instructions a one-request exec executes move by
about 0.2% (threads and polling make them vary a little), so they can tell a 1 ms change from
none. Needs `valgrind`; the section reports "skipped" without it. Each figure is the median of
`REPEATS` runs under valgrind, the trees taking turns (a few minutes in all):

- one-request `pycodex exec --json` against the fake server, and `python -c "import asyncio"`
  as the baseline (the floor of any asyncio program);
- the loop harness of `bench/loop.py` at 10 and at 100 tool round trips in one process; the
  difference divided by 90 is what one iteration costs. The fake server runs in the same process
  and is counted too, and its polling makes this figure vary more (a few percent between
  sessions; less between the trees of one run);
- each workload of `bench/items_bench.py` (parse, build, to_wire, exec line) called
  `ITEM_CALLS` times, minus a process that only sets them up: instructions per call (single
  threaded, so the same from run to run; measured once).

With `PYCODEX_BENCH_BASE_SRC=/path/to/src` (e.g. a `git archive` of the base commit), every
figure is also measured with that tree on `PYTHONPATH`, in the same run, and the ratio is given.
Bytecode caches are written first for both trees, as for `startup`.
"""

from __future__ import annotations

import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import ROOT, Table, use_test_support
from bench.startup import _exec_env, _pycodex_command

REPEATS = 3
ITEM_CALLS = 2000

_LOOP_CHILD = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
from bench import loop
loop.measure(int(sys.argv[1]))
"""
_ITEMS_CHILD = """
import sys
sys.path.insert(0, {root!r})
from bench import items_bench
work = items_bench._workloads()
if sys.argv[1] != "-":
    call = work[sys.argv[1]][0]
    for _ in range({calls}):
        call()
"""
_ITEM_WORKLOADS = ("parse", "build", "to_wire", "exec line")


def _instructions(args: list[str], env: dict[str, str], cwd: Path) -> int:
    proc = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         *args],
        capture_output=True, text=True, env=env, cwd=cwd, stdin=subprocess.DEVNULL, check=True,
    )  # fmt: skip
    match = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count from valgrind: {proc.stderr[-300:]}")
    return int(match.group(1).replace(",", ""))


def _item_instructions(path: str | None, cwd: Path) -> dict[str, float]:
    """Instructions per call of each items workload, with `path` on PYTHONPATH."""
    child = _ITEMS_CHILD.format(root=str(ROOT), calls=ITEM_CALLS)
    env = _with_path(dict(os.environ), path)
    setup = _instructions([sys.executable, "-c", child, "-"], env, cwd)
    return {
        name: (_instructions([sys.executable, "-c", child, name], env, cwd) - setup) / ITEM_CALLS
        for name in _ITEM_WORKLOADS
    }


def _trees() -> dict[str, str | None]:
    """Tree name -> PYTHONPATH (None: the installed pycodex)."""
    trees: dict[str, str | None] = {"this tree": None}
    base = os.environ.get("PYCODEX_BENCH_BASE_SRC")
    if base:
        trees["base tree"] = base
    for path in [p for p in trees.values() if p] + [str(Path(__file__).parents[1] / "src")]:
        compileall.compile_dir(Path(path) / "pycodex", quiet=1)
    return trees


def _with_path(env: dict[str, str], path: str | None) -> dict[str, str]:
    env = {k: v for k, v in env.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    return env if path is None else {**env, "PYTHONPATH": path}


def run(table: Table) -> None:
    if shutil.which("valgrind") is None:
        table.add("instructions", "skipped", "valgrind is not installed")
        return
    use_test_support()
    from support.cli import write_config
    from support.fake_server import FakeModelServer

    with tempfile.TemporaryDirectory() as tmp, FakeModelServer() as server:
        home = Path(tmp)
        write_config(home, server)
        floor_env = _with_path(dict(os.environ), None)
        floor = _instructions([sys.executable, "-c", "import asyncio"], floor_env, home)
        trees = _trees()
        counts = _process_counts(trees, server, home)
        items = {tree: _item_instructions(path, home) for tree, path in trees.items()}
    _report(table, floor, counts, items)


def _process_counts(
    trees: dict[str, str | None], server: Any, home: Path
) -> dict[str, dict[str, float]]:
    """Median instructions of exec and of the loop at 10 and 100 round trips, per tree."""
    from support import sse_builders as sse

    exec_args = [*_pycodex_command(sys.executable), "exec", "--json", "--skip-git-repo-check", "hi"]
    child = _LOOP_CHILD.format(root=str(ROOT), tests=str(ROOT / "tests"))
    samples: dict[str, dict[str, list[int]]] = {
        tree: {"exec": [], "loop10": [], "loop100": []} for tree in trees
    }
    for _ in range(REPEATS):
        for tree, path in trees.items():
            server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
            exec_env = _with_path(_exec_env(home), path)
            samples[tree]["exec"].append(_instructions(exec_args, exec_env, home))
            loop_env = _with_path(dict(os.environ), path)
            for size in (10, 100):
                count = _instructions([sys.executable, "-c", child, str(size)], loop_env, home)
                samples[tree][f"loop{size}"].append(count)
    return {
        tree: {name: statistics.median(values) for name, values in found.items()}
        for tree, found in samples.items()
    }


def _report(
    table: Table,
    floor: int,
    counts: dict[str, dict[str, float]],
    items: dict[str, dict[str, float]],
) -> None:
    table.add("instructions: python -c 'import asyncio'", f"{floor / 1e6:.1f} M", "baseline")
    for tree, found in counts.items():
        table.add(
            f"instructions: one-request exec --json ({tree})",
            f"{found['exec'] / 1e6:.1f} M",
            f"{found['exec'] / floor:.2f}x the asyncio floor",
        )
        table.add(
            f"instructions: loop, one iteration ({tree})",
            f"{(found['loop100'] - found['loop10']) / 90 / 1e6:.3f} M",
            "(100 - 10 round trips) / 90, fake server included",
        )
        shown = ", ".join(f"{name} {count / 1000:.1f} k" for name, count in items[tree].items())
        table.add(f"instructions: items per call ({tree})", shown, "bench/run items workloads")
    if len(counts) == 2:
        mine, base = counts["this tree"], counts["base tree"]
        step = (mine["loop100"] - mine["loop10"]) / (base["loop100"] - base["loop10"])
        table.add(
            "instructions: this tree / base tree",
            f"exec {mine['exec'] / base['exec']:.4f}x",
            f"loop iteration {step:.4f}x",
        )
        ratios = ", ".join(
            f"{name} {items['this tree'][name] / items['base tree'][name]:.3f}x"
            for name in _ITEM_WORKLOADS
        )
        table.add("instructions: items, this tree / base tree", ratios, "per call")
