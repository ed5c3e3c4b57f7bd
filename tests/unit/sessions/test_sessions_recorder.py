"""RolloutRecorder: lazy creation, record shapes, durability, resume, concurrent writers."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import re
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pycodex.sessions import (
    RolloutRecorder,
    RolloutWriteError,
    new_thread_id,
    read_rollout,
    rollout_path,
)

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
META = {"cwd": "/work/p", "originator": "pycodex_exec", "cli_version": "0.1.0", "source": "exec"}


def user_message(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def count_lines_in_other_process(path: Path) -> int:
    code = "import sys; print(len(open(sys.argv[1], 'rb').read().splitlines()))"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, str(path), stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await process.communicate()
    assert process.returncode == 0
    return int(stdout)


async def test_file_appears_only_with_the_first_real_record(tmp_path: Path) -> None:
    thread_id = new_thread_id()
    started = datetime(2025, 6, 1, 9, 0, 0, 250_000, tzinfo=UTC)
    recorder = RolloutRecorder(tmp_path, thread_id, META, started_at=started)
    assert recorder.path == rollout_path(tmp_path, thread_id, started)
    recorder.record_turn_context({"cwd": "/work/p", "model": "m"})
    recorder.record_event({"type": "task_started", "turn_id": "1"})
    await recorder.flush()
    assert not recorder.path.exists()
    assert not (tmp_path / "sessions").exists()

    recorder.record_event({"type": "user_message", "message": "hi", "images": []})
    await recorder.flush()
    records = read_lines(recorder.path)
    assert [r["type"] for r in records] == [
        "session_meta",
        "turn_context",
        "event_msg",
        "event_msg",
    ]
    meta = records[0]["payload"]
    assert meta == {"id": thread_id, "timestamp": "2025-06-01T09:00:00.250Z", **META}
    assert [r["payload"].get("type") for r in records[2:]] == ["task_started", "user_message"]
    await recorder.close()


async def test_a_response_item_also_creates_the_file(tmp_path: Path) -> None:
    recorder = RolloutRecorder(tmp_path, new_thread_id(), META)
    recorder.record_items([user_message("<environment_context>x</environment_context>")])
    await recorder.close()
    assert [r["type"] for r in read_lines(recorder.path)] == ["session_meta", "response_item"]


async def test_a_session_without_real_records_leaves_no_file(tmp_path: Path) -> None:
    recorder = RolloutRecorder(tmp_path, new_thread_id(), META)
    recorder.record_turn_context({"cwd": "/w"})
    recorder.record_compacted("summary", None)
    await recorder.close()
    assert not recorder.materialized
    assert os.listdir(tmp_path) == []


async def test_records_are_compact_utf8_lines_with_timestamp_type_payload(tmp_path: Path) -> None:
    recorder = RolloutRecorder(tmp_path, new_thread_id(), META)
    item = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "héllo, “world”"}],
    }
    recorder.record_items([item])
    recorder.record_compacted("sum", [user_message("kept")])
    recorder.record_compacted("legacy", None)
    await recorder.close()
    raw_lines = recorder.path.read_bytes().split(b"\n")
    assert raw_lines[-1] == b""
    assert "héllo, “world”".encode() in raw_lines[1]
    for raw in raw_lines[:-1]:
        record = json.loads(raw)
        assert list(record) == ["timestamp", "type", "payload"]
        assert TIMESTAMP.match(record["timestamp"])
        assert raw.decode() == json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    records = [json.loads(raw) for raw in raw_lines[:-1]]
    assert records[1]["payload"] == item
    assert records[2] == {**records[2], "type": "compacted"}
    assert records[2]["payload"] == {
        "message": "sum",
        "replacement_history": [user_message("kept")],
    }
    assert records[3]["payload"] == {"message": "legacy"}


async def test_payload_is_captured_when_recorded_not_when_written(tmp_path: Path) -> None:
    recorder = RolloutRecorder(tmp_path, new_thread_id(), META)
    item = user_message("original")
    recorder.record_items([item])
    item["content"][0]["text"] = "mutated later"
    await recorder.close()
    assert read_lines(recorder.path)[1]["payload"] == user_message("original")


async def test_every_flushed_record_is_visible_to_another_process_before_close(
    tmp_path: Path,
) -> None:
    recorder = RolloutRecorder(tmp_path, new_thread_id(), META)
    expected = 1  # session_meta
    for turn in range(3):
        recorder.record_items([user_message(f"turn {turn}")])
        recorder.record_event({"type": "agent_message", "message": f"answer {turn}"})
        expected += 2
        await recorder.flush()
        assert await count_lines_in_other_process(recorder.path) == expected
    await recorder.close()


async def test_written_records_are_in_the_file_without_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    monkeypatch.setattr("pycodex.sessions.recorder.os.fsync", synced.append)
    recorder = RolloutRecorder(tmp_path, new_thread_id(), META)
    recorder.record_items([user_message("before the request")])
    await recorder.written()
    assert await count_lines_in_other_process(recorder.path) == 2
    assert synced == []
    await recorder.flush()
    assert len(synced) == 1
    await recorder.close()


async def test_lone_surrogates_round_trip(tmp_path: Path) -> None:
    recorder = RolloutRecorder(tmp_path, new_thread_id(), META)
    output = {"type": "function_call_output", "call_id": "c", "output": "bad \udcff byte"}
    call = {"type": "function_call", "name": "exec_command", "arguments": "{}", "call_id": "c"}
    recorder.record_items([call, output])
    await recorder.close()
    history = read_rollout(recorder.path)
    assert history.history[1]["output"] == "bad \udcff byte"
    assert history.warnings == []


async def test_resume_appends_without_a_new_session_meta(tmp_path: Path) -> None:
    first = RolloutRecorder(tmp_path, new_thread_id(), META)
    first.record_items([user_message("one")])
    await first.close()

    resumed = RolloutRecorder.resume(first.path)
    assert resumed.path == first.path
    resumed.record_items([user_message("two")])
    await resumed.close()
    records = read_lines(first.path)
    assert [r["type"] for r in records] == ["session_meta", "response_item", "response_item"]


async def test_resume_after_a_torn_last_line_starts_on_a_fresh_line(tmp_path: Path) -> None:
    first = RolloutRecorder(tmp_path, new_thread_id(), META)
    first.record_items([user_message("one")])
    await first.close()
    with first.path.open("ab") as file:
        file.write(b'{"timestamp":"2025-06-01T00:00:00.000Z","type":"response_it')

    resumed = RolloutRecorder.resume(first.path)
    resumed.record_items([user_message("two")])
    await resumed.close()
    history = read_rollout(first.path)
    assert history.history == [user_message("one"), user_message("two")]
    assert history.warnings == ["line 3: invalid JSON, skipped"]


def test_resume_of_a_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        RolloutRecorder.resume(tmp_path / "nope.jsonl")


async def test_write_failures_surface_from_flush_and_close(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "codex_home"
    not_a_directory.write_text("a file where a directory should be")
    recorder = RolloutRecorder(not_a_directory, new_thread_id(), META)
    recorder.record_items([user_message("hi")])
    with pytest.raises(RolloutWriteError) as caught:
        await recorder.flush()
    assert caught.value.path == recorder.path
    assert "cannot write session file" in str(caught.value)
    with pytest.raises(RolloutWriteError):
        await recorder.close()


async def test_recording_after_close_is_an_error(tmp_path: Path) -> None:
    recorder = RolloutRecorder(tmp_path, new_thread_id(), META)
    recorder.record_items([user_message("hi")])
    await recorder.close()
    await recorder.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        recorder.record_event({"type": "agent_message", "message": "late"})


WRITER_SCRIPT = """
import asyncio, sys
from pathlib import Path
from pycodex.sessions import RolloutRecorder

async def main(path, tag, count, size):
    recorder = RolloutRecorder.resume(Path(path))
    sys.stdin.readline()  # start together with the other writer
    for index in range(count):
        text = tag * size
        recorder.record_items([{"type": "message", "role": "user", "n": index,
                                "content": [{"type": "input_text", "text": text}]}])
    await recorder.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
"""


async def test_two_processes_appending_never_break_a_line(tmp_path: Path) -> None:
    count, size = 300, 100_000
    first = RolloutRecorder(tmp_path, new_thread_id(), META)
    first.record_items([user_message("start")])
    await first.close()
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRITER_SCRIPT,
            str(first.path),
            tag,
            str(count),
            str(size),
            stdin=asyncio.subprocess.PIPE,
        )
        for tag in ("a", "b")
    ]
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write(b"go\n")
        await writer.stdin.drain()
    assert [await writer.wait() for writer in writers] == [0, 0]

    history = read_rollout(first.path)
    assert history.warnings == []
    by_tag: dict[str, list[int]] = {"a": [], "b": []}
    for item in history.history[1:]:
        text = item["content"][0]["text"]
        assert len(text) == size and text == text[0] * size
        by_tag[text[0]].append(item["n"])
    assert by_tag == {"a": list(range(count)), "b": list(range(count))}


def writer_thread(path: Path) -> threading.Thread:
    [thread] = [t for t in threading.enumerate() if t.name == f"rollout-writer:{path.name}"]
    return thread


async def test_close_ends_the_writer_thread(tmp_path: Path) -> None:
    recorder = RolloutRecorder(tmp_path, new_thread_id(), META)
    recorder.record_items([user_message("hi")])
    thread = writer_thread(recorder.path)
    assert thread is not threading.current_thread()  # the disk is touched off the event loop
    await recorder.close()
    thread.join(timeout=30)
    assert not thread.is_alive()


async def test_a_forgotten_recorder_ends_its_writer_thread(tmp_path: Path) -> None:
    recorder = RolloutRecorder(tmp_path, new_thread_id(), META)
    recorder.record_items([user_message("hi")])
    await recorder.flush()
    path = recorder.path
    thread = writer_thread(path)
    del recorder
    gc.collect()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert read_rollout(path).history == [user_message("hi")]
