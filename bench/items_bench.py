"""The cost of the wire classes: parsing, building and writing items and `exec --json` events.

Method: each workload runs `LOOPS` times per measurement; the best (minimum) of `REPEATS`
measurements is kept, which filters out scheduler noise better than a mean. Every figure is also
given as a ratio to a baseline measured in the same run on the same data:

- parse: `parse_item` on a dozen objects as a Responses server sends them (parts, reasoning,
  tool calls and outputs, unknown types and fields), against `json.loads` of their JSON text
  (what reading them off the wire costs before any typing);
- build: `Message(...)` with one text part, `FunctionCall(...)` and `FunctionCallOutput(...)`, as
  the engine builds them, against building the same three objects as dicts;
- to_wire: `item.to_wire()` on the parsed items, against `copy.deepcopy` of their dicts;
- exec line: `ItemCompleted(item=CommandExecutionItem(...)).to_json()`, against `json.dumps` of
  the same line as a dict;
- import: what `python -X importtime` reports for `pycodex.protocol.items` and
  `pycodex.protocol.exec_events` (cumulative µs, median of `IMPORT_RUNS` fresh processes).

With `PYCODEX_BENCH_BASE_SRC=/path/to/src` (e.g. a `git archive` of the base commit), the four
workloads also run in fresh processes with this tree and with that one on `PYTHONPATH`, taking
turns `AB_ROUNDS` times; the best time of each tree gives the ratio.
"""

from __future__ import annotations

import copy
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import Table

LOOPS = 2000
REPEATS = 7
IMPORT_RUNS = 9
AB_ROUNDS = 8

SERVER_ITEMS: list[dict[str, Any]] = [
    {
        "id": "msg_1",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Done.", "annotations": [], "logprobs": []}],
    },
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "fix it"}]},
    {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "Looking at the tests"}],
        "content": None,
        "encrypted_content": "gAAAAB" + "x" * 200,
    },
    {
        "type": "function_call",
        "id": "fc_1",
        "status": "completed",
        "name": "exec_command",
        "arguments": '{"cmd":"pytest -q"}',
        "call_id": "call_1",
    },
    {"type": "function_call_output", "call_id": "call_1", "output": "3 passed in 0.1s"},
    {"type": "custom_tool_call", "name": "apply_patch", "input": "*** Begin Patch", "call_id": "c"},
    {"type": "custom_tool_call_output", "call_id": "c", "output": "Success."},
    {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"query": "q"}},
    {"type": "compaction", "encrypted_content": "pcx1.abc"},
]


def _best(work: Callable[[], object]) -> float:
    """Seconds per call: the best of REPEATS runs of LOOPS calls."""
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(LOOPS):
            work()
        best = min(best, time.perf_counter() - started)
    return best / LOOPS


def _workloads() -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    from pycodex.protocol import exec_events as out
    from pycodex.protocol.items import (
        FunctionCall,
        FunctionCallOutput,
        InputText,
        Message,
        parse_item,
    )

    texts = [json.dumps(item) for item in SERVER_ITEMS]
    parsed = [parse_item(item) for item in SERVER_ITEMS]

    def build() -> object:
        return (
            Message(role="user", content=[InputText(text="run the tests")]),
            FunctionCall(name="exec_command", arguments='{"cmd":"ls"}', call_id="call_1"),
            FunctionCallOutput(call_id="call_1", output="a\nb\n"),
        )

    def build_dicts() -> object:
        return (
            {"type": "message", "role": "user",
             "content": [{"type": "input_text", "text": "run the tests"}]},
            {"type": "function_call", "name": "exec_command", "arguments": '{"cmd":"ls"}',
             "call_id": "call_1"},
            {"type": "function_call_output", "call_id": "call_1", "output": "a\nb\n"},
        )  # fmt: skip

    def exec_line() -> str:
        item = out.CommandExecutionItem(
            id="item_3", command="ls", aggregated_output="a\n", exit_code=0, status="completed"
        )
        return out.ItemCompleted(item=item).to_json()

    line = json.loads(exec_line())
    return {
        "parse": (
            lambda: [parse_item(item) for item in SERVER_ITEMS],
            lambda: [json.loads(text) for text in texts],
        ),
        "build": (build, build_dicts),
        "to_wire": (
            lambda: [item.to_wire() for item in parsed],
            lambda: copy.deepcopy(SERVER_ITEMS),
        ),
        "exec line": (exec_line, lambda: json.dumps(line, separators=(",", ":"))),
    }


def _import_micros() -> float:
    """Median cumulative import time (µs) of the two wire modules, from `-X importtime`."""
    code = "import pycodex.protocol.items, pycodex.protocol.exec_events"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    totals = []
    for _ in range(IMPORT_RUNS):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            capture_output=True, text=True, check=True, env=env,
        )  # fmt: skip
        found = {
            match.group(2): int(match.group(1))
            for match in re.finditer(r"\|\s+(\d+) \|\s*(pycodex\.protocol\.\w+)\n", proc.stderr)
        }
        totals.append(
            found.get("pycodex.protocol.items", 0) + found.get("pycodex.protocol.exec_events", 0)
        )
    return statistics.median(totals)


def run(table: Table) -> None:
    per_item = {"parse": len(SERVER_ITEMS), "build": 3, "to_wire": len(SERVER_ITEMS)}
    for name, (work, baseline) in _workloads().items():
        count = per_item.get(name, 1)
        ours, base = _best(work) / count, _best(baseline) / count
        unit = "object" if count > 1 else "call"
        table.add(
            f"items: {name}",
            f"{ours * 1e6:.2f} µs/{unit}",
            f"{ours / base:.2f}x baseline ({base * 1e6:.2f} µs)",
        )
    table.add(
        "items: import items + exec_events",
        f"{_import_micros():.0f} µs",
        f"-X importtime cumulative, median of {IMPORT_RUNS}",
    )
    base_src = os.environ.get("PYCODEX_BENCH_BASE_SRC")
    if base_src:
        _compare_with(base_src, table)


def _print_best() -> None:
    """Child process of the A/B: the best seconds per call of each workload, as JSON."""
    print(json.dumps({name: _best(work) for name, (work, _base) in _workloads().items()}))


def _compare_with(base_src: str, table: Table) -> None:
    root = str(Path(__file__).resolve().parents[1])
    code = f"import sys; sys.path.insert(0, {root!r}); from bench import items_bench; "
    code += "items_bench._print_best()"
    trees = {"this": None, "base": base_src}
    best: dict[str, dict[str, float]] = {"this": {}, "base": {}}
    for round_index in range(AB_ROUNDS):
        order = list(trees.items()) if round_index % 2 else list(trees.items())[::-1]
        for tree, path in order:
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            if path is not None:
                env["PYTHONPATH"] = path
            proc = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
            )
            for name, seconds in json.loads(proc.stdout).items():
                best[tree][name] = min(best[tree].get(name, seconds), seconds)
    ratios = ", ".join(
        f"{name} {best['this'][name] / best['base'][name]:.2f}x" for name in best["this"]
    )
    table.add("items: this tree / base tree", ratios, f"best of {AB_ROUNDS} processes each")
