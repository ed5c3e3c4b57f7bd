"""Streams of SSE events: the decoder alone, and the whole network path.

Part 1, the decoder. Method: each workload is built once as bytes, cut into chunks ahead of time,
and decoded from a fresh decoder; the timed region covers only `feed` and `close` calls. Each
measurement is repeated and the best (minimum) time is kept, which filters out scheduler and cache
noise better than a mean. The baseline splits the very same chunks on LF with `bytes.split` (what
a naive line reader costs, with no SSE parsing, carry-over or decoding), so the printed ratio says
how much the full decoder costs over the cheapest conceivable scan of the same bytes, measured in
the same run on the same machine.

A second timing ("handled") also turns every event into what the client hands the engine: the
JSON payload parsed (`decode_event_data`) and translated into a typed event (`translate_event`),
the same steps `ResponsesModelClient` runs per event.

Workloads:
1. one event whose single `data:` line is 1 MB, arriving in 4 KiB chunks (the re-scan trap);
2. 100 000 small `response.output_text.delta` events, arriving in 4 KiB chunks.

Part 2, the network path (issue 24): 20,000 `response.output_text.delta` events from a fake
model server in another process (`bench/delta_server.py`, each event one write, Nagle off so
each is its own TCP segment: one read per event when the client keeps up) over loopback, read by:
- `bare`: the baseline, a bare asyncio protocol that counts the bytes until the final chunk;
- `transport`: pycodex's HTTP client (`HttpClient.stream`, h11 framing), body bytes only;
- `client`: `ResponsesModelClient.stream`, every event decoded, parsed and typed as the engine
  gets it.
The three take turns, run by run; each figure is the median of `NETWORK_RUNS`, wall and CPU
(`time.process_time`: the server's work is in its own process). Then whole `pycodex exec --json`
runs: a reply of 20,000 deltas against a reply of one delta (the process's start-up and one
request), interleaved, wall and CPU of the child. With `PYCODEX_BENCH_UPSTREAM_CODEX=<path to the
native codex binary>` (as `PYCODEX_BENCH_PEERS=1 bench/run peers` installs it from npm) upstream
Codex runs the same two replies in the same rounds, with its start-up calls switched off as in
bench/peers.py; with `PYCODEX_BENCH_BASELINE_SRC=<another tree's src>` (as in bench/startup.py)
so does pycodex from that tree, for a before/after in one run.

Run: `.venv/bin/python -m bench.sse_bench` (or `bench/run sse`).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pycodex.client.responses_stream import decode_event_data, translate_event
from pycodex.client.sse import SSEDecoder

ROOT = Path(__file__).resolve().parents[1]
DELTAS = 20_000
NETWORK_RUNS = 7

CHUNK_SIZE = 4096
REPEATS = 7


def _chunks(stream: bytes) -> list[bytes]:
    return [stream[i : i + CHUNK_SIZE] for i in range(0, len(stream), CHUNK_SIZE)]


def _one_large_event() -> bytes:
    # A 1 MB text delta: one `data:` line of valid JSON, so the handled timing can parse it too.
    body = b'{"type": "response.output_text.delta", "item_id": "msg_1", "delta": "'
    body += b"x" * (1024 * 1024) + b'"}'
    return b"event: response.output_text.delta\ndata: " + body + b"\n\n"


def _many_small_events(count: int = 100_000) -> bytes:
    frames = []
    for index in range(count):
        body = {
            "type": "response.output_text.delta",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": f"tok{index} ",
        }
        frames.append(f"event: {body['type']}\ndata: {json.dumps(body)}\n\n")
    return "".join(frames).encode()


def _decode(chunks: list[bytes]) -> int:
    decoder = SSEDecoder()
    events = 0
    for chunk in chunks:
        events += len(decoder.feed(chunk))
    return events + len(decoder.close())


def _decode_and_handle(chunks: list[bytes]) -> int:
    decoder = SSEDecoder()
    handled = 0
    for chunk in chunks:
        for event in decoder.feed(chunk):
            payload = decode_event_data(event.event, event.data)
            if payload is not None and translate_event(payload) is not None:
                handled += 1
    return handled


def _split_baseline(chunks: list[bytes]) -> int:
    lines = 0
    for chunk in chunks:
        lines += len(chunk.split(b"\n"))
    return lines


def _best_time(work: Callable[[list[bytes]], int], chunks: list[bytes]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        work(chunks)
        best = min(best, time.perf_counter() - start)
    return best


def _measure(name: str, stream: bytes, results: dict[str, float]) -> None:
    chunks = _chunks(stream)
    events = _decode(chunks)
    decode_s = _best_time(_decode, chunks)
    split_s = _best_time(_split_baseline, chunks)
    handled_s = _best_time(_decode_and_handle, chunks)
    megabytes = len(stream) / 1e6
    results[f"{name}.decode_seconds"] = decode_s
    results[f"{name}.decode_mb_per_s"] = megabytes / decode_s
    results[f"{name}.events_per_s"] = events / decode_s
    results[f"{name}.split_mb_per_s"] = megabytes / split_s
    results[f"{name}.ratio_vs_split"] = decode_s / split_s
    results[f"{name}.handled_seconds"] = handled_s
    results[f"{name}.handled_events_per_s"] = events / handled_s


def run() -> dict[str, float]:
    """Measure both workloads; keys are `<workload>.<metric>`."""
    results: dict[str, float] = {}
    _measure("one_1mb_event", _one_large_event(), results)
    _measure("100k_small_events", _many_small_events(), results)
    return results


# --- part 2: the network path -------------------------------------------------------------------


@contextmanager
def delta_server(streams: int, nodelay: bool = True) -> Iterator[str]:
    """The origin of a `bench.delta_server` process with `streams` scripted replies each way."""
    args = [sys.executable, "-m", "bench.delta_server", str(DELTAS), str(streams)]
    with subprocess.Popen(
        [*args, "1" if nodelay else "0"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    ) as process:  # fmt: skip
        assert process.stdout is not None and process.stdin is not None
        try:
            yield process.stdout.readline().strip()
        finally:
            process.stdin.close()
            process.wait(timeout=30)


class _CountUntilLastChunk(asyncio.Protocol):
    """The baseline reader: counts bytes until the chunked body's terminating `0\r\n\r\n`."""

    def __init__(self, done: asyncio.Future[int]) -> None:
        self.done, self.size, self.tail = done, 0, b""

    def data_received(self, data: bytes) -> None:
        self.size += len(data)
        self.tail = (self.tail + data)[-5:]
        if self.tail == b"0\r\n\r\n" and not self.done.done():
            self.done.set_result(self.size)


async def _bare(origin: str) -> int:
    host, port = origin.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()
    transport, _ = await loop.create_connection(lambda: _CountUntilLastChunk(done), host, int(port))
    head = f"POST /v1/responses HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 2\r\n\r\n{{}}"
    transport.write(head.encode())
    size = await done
    transport.close()
    return size


async def _transport(origin: str) -> int:
    from pycodex.client.transport import HttpClient

    size = 0
    async with HttpClient() as http, http.stream(
        "POST", f"{origin}/v1/responses", content=b"{}"
    ) as response:  # fmt: skip
        async for chunk in response.aiter_bytes():
            size += len(chunk)
    return size


async def _client(origin: str) -> int:
    from pycodex.client.request import ModelSettings, Prompt, RequestContext
    from pycodex.client.responses import ResponsesModelClient
    from pycodex.config import ModelProviderInfo

    provider = ModelProviderInfo(id="bench", name="Bench", base_url=f"{origin}/v1", env_key="K",
                                 wire_api="responses")  # fmt: skip
    client = ResponsesModelClient(provider, ModelSettings(model="m"), env={"K": "k"})
    context = RequestContext(thread_id="t", session_id="s", turn_id="u", client_request_id="r")
    events = 0
    try:
        async for _event in client.stream(Prompt(input=[]), context):
            events += 1
    finally:
        await client.aclose()
    return events


def _timed(work: Callable[[str], Any], origin: str) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    asyncio.run(work(origin))
    return time.perf_counter() - wall, time.process_time() - cpu


def _exec_run(command: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True,
                   stdin=subprocess.DEVNULL)  # fmt: skip
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _exec_env(home: str, origin: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CODEX_"))}
    keep.pop("PYTHONDONTWRITEBYTECODE", None)
    for path, name in (("/v1", "many"), ("/one/v1", "one")):
        Path(home, name).mkdir(exist_ok=True)
        Path(home, name, "config.toml").write_text(
            f'model = "bench-model"\nmodel_provider = "fake"\nmodel_context_window = 128000\n'
            f'[model_providers.fake]\nname = "Fake"\nbase_url = "{origin}{path}"\n'
            f'env_key = "FAKE_API_KEY"\n'
        )
    return {**keep, "FAKE_API_KEY": "sk-bench"}


def _upstream_homes(home: str, origin: str) -> dict[str, str]:
    """CODEX_HOMEs for upstream Codex, one per reply (its config keys, not pycodex's)."""
    homes = {}
    for path, name in (("/v1", "many"), ("/one/v1", "one")):
        directory = Path(home, f"upstream-{name}")
        directory.mkdir()
        (directory / "config.toml").write_text(
            'model = "bench-model"\nmodel_provider = "fake"\ncheck_for_update_on_startup = false\n'
            f'[model_providers.fake]\nname = "Fake"\nbase_url = "{origin}{path}"\n'
            'env_key = "FAKE_API_KEY"\nwire_api = "responses"\nrequest_max_retries = 0\n'
            "stream_max_retries = 0\n[analytics]\nenabled = false\n"
            "[features]\nplugins = false\nremote_plugin = false\n"
        )
        homes[name] = str(directory)
    return homes


def _exec_commands(home: str, origin: str) -> dict[str, tuple[list[str], dict[str, str]]]:
    """The exec runs to time: ours, and the baseline tree's and upstream's when asked for."""
    env = _exec_env(home, origin)
    ours = [sys.executable, "-m", "pycodex", "exec", "--json", "--ephemeral",
            "--skip-git-repo-check", "hi"]  # fmt: skip
    commands = {
        "exec, 20,000 deltas": (ours, {**env, "CODEX_HOME": f"{home}/many"}),
        "exec, 1 delta": (ours, {**env, "CODEX_HOME": f"{home}/one"}),
    }
    other = os.environ.get("PYCODEX_BENCH_BASELINE_SRC")
    if other:
        old = {**env, "PYTHONPATH": other}
        commands["baseline tree exec, 20,000 deltas"] = (
            ours,
            {**old, "CODEX_HOME": f"{home}/many"},
        )
        commands["baseline tree exec, 1 delta"] = (ours, {**old, "CODEX_HOME": f"{home}/one"})
    upstream = os.environ.get("PYCODEX_BENCH_UPSTREAM_CODEX")
    if upstream:
        theirs = [upstream, "exec", "--json", "--skip-git-repo-check",
                  "--dangerously-bypass-approvals-and-sandbox", "hi"]  # fmt: skip
        dead = "http://127.0.0.1:9"  # nothing listens: a stray call fails locally
        quiet = {**env, "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "NO_PROXY": "127.0.0.1"}
        homes = _upstream_homes(home, origin)
        commands["upstream exec, 20,000 deltas"] = (theirs, {**quiet, "CODEX_HOME": homes["many"]})
        commands["upstream exec, 1 delta"] = (theirs, {**quiet, "CODEX_HOME": homes["one"]})
    return commands


def run_network() -> dict[str, tuple[float, float]]:
    """Median (wall s, CPU s) of each reader and of the exec runs."""
    samples: dict[str, list[tuple[float, float]]] = {}
    readers = {"bare": _bare, "transport": _transport, "client": _client}
    with (
        delta_server(streams=(NETWORK_RUNS + 1) * 6) as origin,
        tempfile.TemporaryDirectory() as home,
    ):
        execs = _exec_commands(home, origin)
        for round_index in range(NETWORK_RUNS + 1):
            for name, reader in readers.items():
                timing = _timed(reader, origin)
                if round_index:
                    samples.setdefault(name, []).append(timing)
            for name, (command, env) in execs.items():
                timing = _exec_run(command, env, home)
                if round_index:
                    samples.setdefault(name, []).append(timing)
    return {
        name: (statistics.median(t[0] for t in runs), statistics.median(t[1] for t in runs))
        for name, runs in samples.items()
    }


def network_rows(results: dict[str, tuple[float, float]]) -> list[tuple[str, str, str]]:
    bare_wall, bare_cpu = results["bare"]
    rows = []
    for name in ("bare", "transport", "client"):
        wall, cpu = results[name]
        note = "baseline: a bare asyncio socket reader" if name == "bare" else (
            f"{wall / bare_wall:.2f}x the bare reader's wall, {cpu / bare_cpu:.2f}x its CPU; "
            f"{cpu / DELTAS * 1e6:.1f} µs CPU per event"
        )  # fmt: skip
        rows.append((f"sse: {DELTAS:,} deltas over loopback, {name}",
                     f"{wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU", note))  # fmt: skip
    many, one = results["exec, 20,000 deltas"], results["exec, 1 delta"]
    rows.append((
        f"sse: exec --json, {DELTAS:,} deltas",
        f"{many[0] * 1000:.0f} ms wall, {many[1] * 1000:.0f} ms CPU",
        f"a one-delta exec: {one[0] * 1000:.0f} ms wall, {one[1] * 1000:.0f} ms CPU; the deltas "
        f"add {(many[0] - one[0]) * 1000:.0f} ms wall ({(many[1] - one[1]) / DELTAS * 1e6:.1f} µs "
        "CPU per event)",
    ))  # fmt: skip
    if "baseline tree exec, 20,000 deltas" in results:
        old, old_one = (
            results["baseline tree exec, 20,000 deltas"],
            results["baseline tree exec, 1 delta"],
        )
        rows.append((
            f"sse: exec --json, {DELTAS:,} deltas, baseline tree",
            f"{old[0] * 1000:.0f} ms wall, {old[1] * 1000:.0f} ms CPU",
            f"this tree/baseline {many[0] / old[0]:.2f}x wall, {many[1] / old[1]:.2f}x CPU; its "
            f"one-delta exec: {old_one[0] * 1000:.0f} ms wall, {old_one[1] * 1000:.0f} ms CPU",
        ))  # fmt: skip
    if "upstream exec, 20,000 deltas" in results:
        theirs, their_one = (
            results["upstream exec, 20,000 deltas"],
            results["upstream exec, 1 delta"],
        )
        rows.append((
            f"sse: upstream codex exec --json, {DELTAS:,} deltas",
            f"{theirs[0] * 1000:.0f} ms wall, {theirs[1] * 1000:.0f} ms CPU",
            f"pycodex/upstream {many[0] / theirs[0]:.2f}x wall, {many[1] / theirs[1]:.2f}x CPU; "
            f"upstream's one-delta exec: {their_one[0] * 1000:.0f} ms wall, "
            f"{their_one[1] * 1000:.0f} ms CPU",
        ))  # fmt: skip
    return rows


def main() -> None:
    results = run()
    for workload in ("one_1mb_event", "100k_small_events"):
        print(
            f"{workload:>18}: {results[f'{workload}.decode_seconds'] * 1e3:8.2f} ms  "
            f"{results[f'{workload}.decode_mb_per_s']:8.1f} MB/s  "
            f"{results[f'{workload}.events_per_s']:12,.0f} events/s  "
            f"(bytes.split baseline {results[f'{workload}.split_mb_per_s']:8.1f} MB/s, "
            f"decoder/baseline time ratio {results[f'{workload}.ratio_vs_split']:.1f}x)"
        )
    for name, value, note in network_rows(run_network()):
        print(f"{name}: {value}  ({note})")


if __name__ == "__main__":
    main()
