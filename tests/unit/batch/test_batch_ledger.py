"""The results file as a ledger: appends that survive a crash, a cut last line, one writer,
one line per task after compaction."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pycodex.batch.ledger import Ledger, LedgerError, read_results
from pycodex.batch.results import BatchResult


def result(task_id: str | int, status: str = "completed", **fields: object) -> BatchResult:
    return BatchResult(id=task_id, status=status, **fields)  # type: ignore[arg-type]


def test_append_then_reopen(tmp_path: Path) -> None:
    path = tmp_path / "out" / "results.jsonl"  # the directory is made
    ledger = Ledger.open(path)
    first = result(1, final_message={"a": 1}, usage={"input_tokens": 3, "output_tokens": 4})
    ledger.append(first)
    ledger.append(result("two", "failed", error="boom", exit_code=1, attempts=2))
    ledger.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {
        "id": 1, "status": "completed", "final_message": {"a": 1},
        "usage": {"input_tokens": 3, "output_tokens": 4}, "duration_s": 0.0, "exit_code": None,
        "error": None, "session_file": None, "thread_id": None, "diff": None, "attempts": 1,
    }  # fmt: skip
    reopened = Ledger.open(path)
    assert reopened.latest == {"1": first, "two": result("two", "failed", error="boom",
                                                        exit_code=1, attempts=2)}  # fmt: skip
    assert first.total_tokens == 7
    reopened.close()


def test_a_line_cut_by_a_kill_is_dropped_and_the_next_append_is_clean(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    whole = result(1).to_json_line()
    path.write_text(whole + result(2).to_json_line()[:25])
    ledger = Ledger.open(path)
    assert set(ledger.latest) == {"1"} and ledger.dropped_tail
    ledger.append(result(3))
    ledger.close()
    assert path.read_text() == whole + result(3).to_json_line()


def test_a_whole_last_line_without_its_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text(result(1).to_json_line().rstrip("\n"))
    ledger = Ledger.open(path)
    ledger.append(result(2))
    ledger.close()
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == [1, 2]


def test_a_bad_line_before_the_end_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text(result(1).to_json_line() + '{"id": 2, "status": "great"}\n' +
                    result(3).to_json_line())  # fmt: skip
    with pytest.raises(LedgerError, match=r"results.jsonl:2: not a result line \(unknown status"):
        Ledger.open(path)
    assert path.read_text().count("\n") == 3  # left as it was


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    ledger = Ledger.open(path)
    try:
        with pytest.raises(LedgerError, match="another pycodex batch is writing"):
            Ledger.open(path)
    finally:
        ledger.close()
    Ledger.open(path).close()


def test_compaction_keeps_the_latest_line_of_each_task(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    ledger = Ledger.open(path)
    for line in (result(1, "failed"), result(2), result(1, "completed", attempts=2)):
        ledger.append(line)
    assert ledger.superseded == 1
    ledger.compact()
    ledger.append(result(3))  # still appendable, still locked
    with pytest.raises(LedgerError, match="another pycodex batch"):
        Ledger.open(path)
    ledger.close()
    ids = [(d["id"], d["status"]) for d in map(json.loads, path.read_text().splitlines())]
    assert ids == [(2, "completed"), (1, "completed"), (3, "completed")]
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left
    assert read_results(path)["1"].attempts == 2


def test_appended_lines_are_on_disk_when_the_writer_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    writer = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from pycodex.batch.ledger import Ledger
        from pycodex.batch.results import BatchResult
        ledger = Ledger.open(Path({str(path)!r}))
        for n in range(3):
            ledger.append(BatchResult(id=n, status="completed"))
        os.kill(os.getpid(), 9)
        """
    )
    done = subprocess.run([sys.executable, "-c", writer], capture_output=True, timeout=60)
    assert done.returncode == -9
    assert sorted(read_results(path)) == ["0", "1", "2"]
