"""Benchmark: read_rollout against a plain per-line json.loads loop, on synthetic rollouts.

Run: .venv/bin/python bench/rollout_bench.py [--sizes-mb 10 100] [--repeat 3]
(or through the bench harness, which calls `run(table)`).

Writes 10 MB and 100 MB rollouts with a realistic mix of records (large session_meta, turn
contexts, user/agent messages, reasoning with encrypted content, tool calls with outputs of varied
size, token counts) into a temporary directory, then prints the best-of-N time of each reader, its
throughput and the ratio read_rollout / baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from pycodex.sessions import encode_record, new_thread_id, read_rollout

_WORDS = [
    "the",
    "patch",
    "test",
    "file",
    "run",
    "fix",
    "error",
    "import",
    "module",
    "function",
    "value",
    "return",
    "list",
]


def _prose(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def _turn(rng: random.Random, turn: int) -> Iterator[tuple[str, dict[str, Any]]]:
    prompt = f"Turn {turn}: {_prose(rng, rng.randint(5, 60))} — naïve café ✓"
    yield "turn_context", {"cwd": "/repo", "approval_policy": "never", "model": "gpt-5.5"}
    yield "event_msg", {"type": "task_started", "turn_id": str(turn)}
    yield "response_item", _message("user", "input_text", prompt)
    yield "event_msg", {"type": "user_message", "message": prompt, "images": []}
    for call in range(rng.randint(1, 6)):
        call_id = f"call_{turn}_{call}"
        blob = base64.b64encode(rng.randbytes(rng.randint(300, 3000))).decode()
        yield (
            "response_item",
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": _prose(rng, 30)}],
                "encrypted_content": blob,
            },
        )
        arguments = json.dumps({"cmd": f"grep -rn '{rng.choice(_WORDS)}' src", "workdir": "/repo"})
        yield (
            "response_item",
            {
                "type": "function_call",
                "name": "exec_command",
                "arguments": arguments,
                "call_id": call_id,
            },
        )
        output = "\n".join(_prose(rng, 12) for _ in range(rng.randint(2, 150)))
        yield (
            "response_item",
            {"type": "function_call_output", "call_id": call_id, "output": output},
        )
    answer = _prose(rng, rng.randint(20, 200))
    yield "response_item", _message("assistant", "output_text", answer)
    yield "event_msg", {"type": "agent_message", "message": answer}
    usage = {"input_tokens": turn * 900, "cached_input_tokens": turn * 800, "output_tokens": 55}
    yield "event_msg", {"type": "token_count", "info": {"total_token_usage": usage}}
    yield "event_msg", {"type": "task_complete", "turn_id": str(turn), "last_agent_message": answer}


def _message(role: str, part: str, text: str) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": [{"type": part, "text": text}]}


def write_rollout(path: Path, target_bytes: int, seed: int = 7) -> int:
    """Write a synthetic rollout of about `target_bytes`; return the number of lines."""
    rng = random.Random(seed)
    at = datetime(2025, 6, 1, tzinfo=UTC)
    meta = {
        "id": new_thread_id(),
        "cwd": "/repo",
        "originator": "pycodex_exec",
        "cli_version": "0.1.0",
        "source": "exec",
        "model_provider": "fake",
        "base_instructions": {"text": _prose(rng, 4000)},
    }
    lines = [encode_record("session_meta", meta, at)]
    size = len(lines[0])
    turn = 0
    while size < target_bytes:
        turn += 1
        for record_type, payload in _turn(rng, turn):
            at += timedelta(milliseconds=rng.randint(1, 900))
            line = encode_record(record_type, payload, at)  # type: ignore[arg-type]
            lines.append(line)
            size += len(line)
    path.write_bytes(b"".join(lines))
    return len(lines)


def baseline(path: Path) -> None:
    with path.open(encoding="utf-8") as file:
        for line in file:
            json.loads(line)


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


@dataclass(frozen=True)
class Measurement:
    megabytes: float
    lines: int
    history_items: int
    read_rollout_s: float
    baseline_s: float


def measure(directory: Path, size_mb: int, repeat: int) -> Measurement:
    """Write one synthetic rollout of `size_mb` and time both readers on it."""
    path = directory / f"rollout-{size_mb}mb.jsonl"
    line_count = write_rollout(path, size_mb * 1024 * 1024)
    ours = best_of(repeat, partial(read_rollout, path))
    base = best_of(repeat, partial(baseline, path))
    items = len(read_rollout(path).history)
    megabytes = path.stat().st_size / (1024 * 1024)
    path.unlink()
    return Measurement(megabytes, line_count, items, ours, base)


class ResultTable(Protocol):
    """The `add` method of bench.common.Table (kept structural so this file runs on its own)."""

    def add(self, name: str, value: str, note: str = "") -> None: ...


def run(table: ResultTable, sizes_mb: Sequence[int] = (10, 100), repeat: int = 3) -> None:
    """Entry point for `python -m bench sessions`: one row per size."""
    with tempfile.TemporaryDirectory() as tmp:
        for size_mb in sizes_mb:
            m = measure(Path(tmp), size_mb, repeat)
            table.add(
                f"sessions: read_rollout {size_mb} MB",
                f"{m.read_rollout_s * 1000:.0f} ms",
                f"{m.megabytes / m.read_rollout_s:.0f} MB/s, "
                f"{m.read_rollout_s / m.baseline_s:.2f}x plain json.loads loop",
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mb", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for size_mb in args.sizes_mb:
            m = measure(Path(tmp), size_mb, args.repeat)
            print(f"{m.megabytes:7.1f} MB, {m.lines} lines, {m.history_items} history items")
            for name, seconds in (("read_rollout", m.read_rollout_s), ("baseline", m.baseline_s)):
                print(f"  {name:13} {seconds * 1000:8.1f} ms  {m.megabytes / seconds:7.1f} MB/s")
            print(f"  ratio read_rollout/baseline: {m.read_rollout_s / m.baseline_s:.2f}")


if __name__ == "__main__":
    main()
