"""The exec command line of a task, exec's output read back, and which attempts a batch plans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pycodex._records import fields
from pycodex.batch.exec_stream import ExecTranscript
from pycodex.batch.executors import work_directory
from pycodex.batch.ledger import Ledger
from pycodex.batch.options import BatchSettings, ExecOptions, exec_arguments
from pycodex.batch.results import BatchResult
from pycodex.batch.scheduler import plan
from pycodex.batch.task_runner import TaskJob
from pycodex.batch.tasks import BatchTask
from pycodex.cli.exec_args import parse_exec_args

WORK = Path("/w/task")


def test_batch_options_apply_unless_the_task_says_otherwise() -> None:
    options = ExecOptions(
        model="m", profile="p", sandbox="read-only", full_auto=True, yolo=True,
        add_dirs=(Path("/extra"),), ephemeral=True, config=("a=1", "b=2"),
        output_schema=Path("/s.json"), images=(Path("/i.png"),), extra_args=("--oss",),
    )  # fmt: skip
    plain = exec_arguments(options, BatchTask(id=1, prompt="x"), WORK, options.output_schema)
    assert plain == [
        "exec", "--json", "--skip-git-repo-check", "-C", "/w/task", "-m", "m", "-p", "p",
        "-s", "read-only", "--full-auto", "--yolo", "--add-dir", "/extra", "--ephemeral",
        "-c", "a=1", "-c", "b=2", "--output-schema", "/s.json", "-i", "/i.png", "--oss",
    ]  # fmt: skip
    task = BatchTask(id=1, prompt="x", model="tm", profile="tp", sandbox="workspace-write",
                     config=("b=3",), images=())  # fmt: skip
    own = exec_arguments(options, task, WORK, Path("/t.json"))
    assert own == [
        "exec", "--json", "--skip-git-repo-check", "-C", "/w/task", "-m", "tm", "-p", "tp",
        "-s", "workspace-write", "--add-dir", "/extra", "--ephemeral", "-c", "a=1", "-c", "b=2",
        "-c", "b=3", "--output-schema", "/t.json", "--oss",
    ]  # fmt: skip
    parsed = parse_exec_args([*own[1:], "-"])  # exec accepts what the batch writes
    assert (parsed.model, parsed.sandbox, parsed.config) == ("tm", "workspace-write", (
        "a=1", "b=2", "b=3"))  # fmt: skip


def test_options_and_settings_survive_the_trip_to_a_worker() -> None:
    options = ExecOptions(model="m", cd=Path("/d"), add_dirs=(Path("/a"),), config=("x=1",),
                          output_schema=Path("/s"), images=(Path("/i"),), extra_args=("--oss",),
                          env={"K": "V"}, full_auto=True)  # fmt: skip
    settings = BatchSettings(retries=2, timeout_s=5.5, max_concurrent_requests=3,
                             cancel_grace_s=1.0, work_root=Path("/tmp/x"))  # fmt: skip
    assert ExecOptions.from_wire(json.loads(json.dumps(options.to_wire()))) == options
    assert BatchSettings.from_wire(json.loads(json.dumps(settings.to_wire()))) == settings
    assert {f.name for f in fields(ExecOptions)} == set(options.to_wire())
    assert {f.name for f in fields(BatchSettings)} == set(settings.to_wire())


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"retries": -1}, "retries cannot be negative"),
        ({"timeout_s": 0}, "timeout_s must be positive"),
        ({"max_concurrent_requests": 0}, "at least 1"),
        ({"direct": True, "max_concurrent_requests": 2}, "needs the request proxy"),
    ],
)
def test_bad_settings(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BatchSettings(**settings)  # type: ignore[arg-type]


def test_exec_output_read_in_pieces() -> None:
    events = [
        {"type": "thread.started", "thread_id": "th-1"},
        {"type": "turn.started"},
        {"type": "item.completed", "item": {"id": "item_0", "type": "agent_message", "text": "a"}},
        {"type": "error", "message": "Reconnecting... 1/5"},
        {"type": "item.completed", "item": {"id": "item_1", "type": "agent_message", "text": "b"}},
        {"type": "some.future.event", "x": 1},
        {"type": "turn.completed", "usage": {"input_tokens": 5, "output_tokens": 2}},
    ]
    data = b"".join(json.dumps(e).encode() + b"\n" for e in events) + b"not json\n"
    transcript = ExecTranscript()
    for start in range(0, len(data), 7):  # any split of the stream
        transcript.feed(data[start : start + 7])
    transcript.close()
    assert transcript.thread_id == "th-1"
    assert transcript.final_message == "b"
    assert transcript.usage == {"input_tokens": 5, "output_tokens": 2}
    assert transcript.last_error == "Reconnecting... 1/5" and transcript.turn_error is None
    assert transcript.stray_lines == 1
    failed = ExecTranscript()
    failed.feed(b'{"type":"turn.failed","error":{"message":"quota"}}')  # no newline at the end
    failed.close()
    assert failed.turn_error == "quota"


def test_plan_skips_finished_tasks_and_reruns_the_rest(tmp_path: Path) -> None:
    tasks = [BatchTask(id=n, prompt="x") for n in range(6)]
    ledger = Ledger.open(tmp_path / "results.jsonl")
    for line in [
        BatchResult(id=0, status="completed"),
        BatchResult(id=1, status="failed", attempts=1),
        BatchResult(id=2, status="failed", attempts=2),
        BatchResult(id=3, status="timed_out", attempts=1),
        BatchResult(id=4, status="cancelled", attempts=3),
    ]:
        ledger.append(line)
    try:
        assert plan(tasks, ledger, retries=0) == [TaskJob(tasks[4], 4), TaskJob(tasks[5], 1)]
        assert plan(tasks, ledger, retries=1) == [
            TaskJob(tasks[1], 2), TaskJob(tasks[3], 2), TaskJob(tasks[4], 4), TaskJob(tasks[5], 1),
        ]  # fmt: skip
    finally:
        ledger.close()


def test_working_copies_are_not_made_under_tmp(monkeypatch: pytest.MonkeyPatch) -> None:
    # A task in the workspace-write sandbox may write /tmp: its neighbours' copies must not be
    # there.
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    default = work_directory(BatchSettings(), "k")
    assert default == Path.home() / ".cache" / "pycodex" / "batch" / "batch-k"
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/me")
    assert work_directory(BatchSettings(), "k") == Path("/var/cache/me/pycodex/batch/batch-k")
    chosen = BatchSettings(work_root=Path("/data/scratch"))
    assert work_directory(chosen, "k") == Path("/data/scratch/batch-k")
