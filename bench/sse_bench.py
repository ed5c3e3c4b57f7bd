"""Throughput of `pycodex.client.sse.SSEDecoder` against a `bytes.split` baseline.

Method: each workload is built once as bytes, cut into chunks ahead of time, and decoded from a
fresh decoder; the timed region covers only `feed` and `close` calls. Each measurement is repeated
and the best (minimum) time is kept, which filters out scheduler and cache noise better than a
mean. The baseline splits the very same chunks on LF with `bytes.split` (what a naive line reader
costs, with no SSE parsing, carry-over or decoding), so the printed ratio says how much the full
decoder costs over the cheapest conceivable scan of the same bytes, measured in the same run on
the same machine.

A second timing ("handled") also turns every event into what the client hands the engine: the
JSON payload parsed (`decode_event_data`) and translated into a typed event (`translate_event`),
the same steps `ResponsesModelClient` runs per event.

Workloads:
1. one event whose single `data:` line is 1 MB, arriving in 4 KiB chunks (the re-scan trap);
2. 100 000 small `response.output_text.delta` events, arriving in 4 KiB chunks.

Run: `.venv/bin/python bench/sse_bench.py`
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from pycodex.client.responses_stream import decode_event_data, translate_event
from pycodex.client.sse import SSEDecoder

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


if __name__ == "__main__":
    main()
