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
  sessions; less between the trees of one run).

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

from bench.common import ROOT, Table, use_test_support
from bench.startup import _exec_env, _pycodex_command

REPEATS = 3

_LOOP_CHILD = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
from bench import loop
loop.measure(int(sys.argv[1]))
"""


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
    from support import sse_builders as sse
    from support.cli import write_config
    from support.fake_server import FakeModelServer

    python = sys.executable
    samples: dict[str, dict[str, list[int]]] = {}
    with tempfile.TemporaryDirectory() as tmp, FakeModelServer() as server:
        home = Path(tmp)
        write_config(home, server)
        exec_args = [*_pycodex_command(python), "exec", "--json", "--skip-git-repo-check", "hi"]
        child = _LOOP_CHILD.format(root=str(ROOT), tests=str(ROOT / "tests"))
        floor_env = _with_path(dict(os.environ), None)
        floor = _instructions([python, "-c", "import asyncio"], floor_env, home)
        trees = _trees()
        for _ in range(REPEATS):
            for tree, path in trees.items():
                found = samples.setdefault(tree, {"exec": [], "loop10": [], "loop100": []})
                server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
                found["exec"].append(
                    _instructions(exec_args, _with_path(_exec_env(home), path), home)
                )
                loop_env = _with_path(dict(os.environ), path)
                for size in (10, 100):
                    count = _instructions([python, "-c", child, str(size)], loop_env, home)
                    found[f"loop{size}"].append(count)
    counts = {
        tree: {name: statistics.median(values) for name, values in found.items()}
        for tree, found in samples.items()
    }
    table.add("instructions: python -c 'import asyncio'", f"{floor / 1e6:.1f} M", "baseline")
    for tree, found in counts.items():
        per_iteration = (found["loop100"] - found["loop10"]) / 90
        table.add(
            f"instructions: one-request exec --json ({tree})",
            f"{found['exec'] / 1e6:.1f} M",
            f"{found['exec'] / floor:.2f}x the asyncio floor",
        )
        table.add(
            f"instructions: loop, one iteration ({tree})",
            f"{per_iteration / 1e6:.3f} M",
            "(100 - 10 round trips) / 90, fake server included",
        )
    if len(counts) == 2:
        mine, base = counts["this tree"], counts["base tree"]
        mine_step = mine["loop100"] - mine["loop10"]
        base_step = base["loop100"] - base["loop10"]
        table.add(
            "instructions: this tree / base tree",
            f"exec {mine['exec'] / base['exec']:.4f}x",
            f"loop iteration {mine_step / base_step:.4f}x",
        )
