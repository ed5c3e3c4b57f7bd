"""`pycodex batch` as a subprocess against the fake model server: the 50-task batch killed
midway and resumed, Ctrl-C, and bad input."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from support import sse_builders as sse
from support.batch_scenario import TASK_IDS, marker, write_scenario
from support.cli import cli_env, run_cli
from support.fake_server import FakeModelServer

BATCH = [sys.executable, "-m", "pycodex", "batch"]


@pytest.fixture(autouse=True)
def _own_cache_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Working copies go under $XDG_CACHE_HOME; keep them in the test's directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every whole line of a results file (a line cut off by a kill is not one)."""
    data = path.read_bytes() if path.exists() else b""
    complete = data[: data.rfind(b"\n") + 1]
    return [json.loads(line) for line in complete.splitlines() if line.strip()]


def test_fifty_tasks_killed_midway_then_resumed(
    fake_server: FakeModelServer, home: Path, tmp_path: Path
) -> None:
    scenario = write_scenario(tmp_path, fake_server)
    results = tmp_path / "results.jsonl"
    args = [
        *BATCH,
        str(scenario.tasks_path),
        "-o",
        str(results),
        "--workers",
        "4",
        "--retries",
        "1",
    ]
    killed = subprocess.Popen(args, env=cli_env(home), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        fake_server.wait_for_requests(20, timeout_s=60)
    finally:
        killed.kill()
        killed.wait()
    before = {line["id"] for line in read_lines(results)}
    assert 0 < len(before) < 50
    asked_before = {task_id: len(fake_server.requests_with(marker(task_id))) for task_id in before}

    resumed = subprocess.run(args, env=cli_env(home), capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 1, resumed.stderr  # some tasks fail on purpose
    lines = read_lines(results)
    assert Counter(line["id"] for line in lines) == Counter(TASK_IDS)  # exactly one result each
    for task_id in before:  # a task with a result was not run again
        assert len(fake_server.requests_with(marker(task_id))) == asked_before[task_id], task_id
    by_id = {line["id"]: line for line in lines}
    for task_id, expected in scenario.expected().items():
        assert {k: by_id[task_id][k] for k in expected} == expected, by_id[task_id]

    t42, t43 = by_id["t42"], by_id["t43"]
    assert "-version one\n+version one, edited\n" in t42["diff"]  # cloned at v1, not HEAD
    assert "+++ b/notes.txt\n@@ -0,0 +1 @@\n+written by t43\n" in t43["diff"]
    assert not (scenario.plain_dir / "notes.txt").exists()  # the task had its own copy
    assert "bad request for t44" in by_id["t44"]["error"]
    assert "nope" in by_id["t48"]["error"]
    assert fake_server.requests_with(marker("t49"))[0].json()["model"] == "other-model"
    completed = [line for line in lines if line["status"] == "completed"]
    assert all(Path(line["session_file"]).is_file() for line in completed)
    assert all(line["usage"]["output_tokens"] > 0 for line in completed)
    assert "completed" in resumed.stderr and "46" in resumed.stderr  # the summary table

    asked = len(fake_server.requests)
    again = subprocess.run(args, env=cli_env(home), capture_output=True, text=True, timeout=60)
    assert again.returncode == 1
    assert len(fake_server.requests) == asked  # nothing left to run
    assert read_lines(results) == lines


def test_first_ctrl_c_lets_running_tasks_finish_and_second_cancels(
    fake_server: FakeModelServer, home: Path, tmp_path: Path
) -> None:
    slow = {"id": "slow", "prompt": f"{marker('slow')} take your time"}
    stuck = {"id": "stuck", "prompt": f"{marker('stuck')} never answers"}
    later = [{"id": f"later{n}", "prompt": f"{marker(f'later{n}')} go"} for n in range(3)]
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps(t) + "\n" for t in [slow, stuck, *later]))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("slow answer"),
                           marker=marker("slow"), latency_s=1.0)  # fmt: skip
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("x"), stall_after=1,
                           marker=marker("stuck"))  # fmt: skip
    results = tmp_path / "results.jsonl"
    batch = subprocess.Popen(
        [*BATCH, str(tasks), "-o", str(results), "--workers", "2", "--progress-interval", "60"],
        env=cli_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert batch.stderr is not None
    try:
        fake_server.wait_for_requests(2, timeout_s=60)
        batch.send_signal(signal.SIGINT)
        assert "stopping: no new tasks" in _next_line_with(batch, "stopping")
        _next_line_with(batch, "slow: completed")  # it finished after the first Ctrl-C
        batch.send_signal(signal.SIGINT)
        assert batch.wait(timeout=60) == 130
    finally:
        batch.kill()
        batch.wait()
        batch.stderr.close()
    fake_server.wait_until_idle()  # the cancelled exec is gone: it hung up on the stalled stream
    by_id = {line["id"]: line for line in read_lines(results)}
    assert set(by_id) == {"slow", "stuck"}  # the others never started
    assert (by_id["slow"]["status"], by_id["slow"]["final_message"]) == ("completed", "slow answer")
    assert (by_id["stuck"]["status"], by_id["stuck"]["error"]) == ("cancelled", "cancelled")
    assert len(fake_server.requests) == 2


def test_batch_wide_timeout_request_cap_and_429(
    fake_server: FakeModelServer, home: Path, tmp_path: Path
) -> None:
    names = ["a", "b", "c", "d"]
    fake_server.expect_error("/v1/responses", 429, {"error": {"message": "slow down"}},
                             headers={"retry-after": "0.2"}, marker=marker("a"))  # fmt: skip
    for name in names:
        fake_server.expect_sse("/v1/responses", sse.assistant_reply(f"{name} done"),
                               marker=marker(name), latency_s=0.3)  # fmt: skip
    # Standing: under load, exec may not even have asked the model within the second.
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("x"), stall_after=1,
                           marker=marker("stuck"), repeat=True)  # fmt: skip
    tasks = tmp_path / "tasks.jsonl"
    lines = [{"id": "stuck", "prompt": marker("stuck")}]  # held to the batch's --timeout-s 1
    lines += [{"id": n, "prompt": marker(n), "timeout_s": 120} for n in names]  # their own
    tasks.write_text("".join(json.dumps(line) + "\n" for line in lines))
    results = tmp_path / "results.jsonl"
    done = subprocess.run(
        [*BATCH, str(tasks), "-o", str(results), "--workers", "5", "--timeout-s", "1",
         "--max-concurrent-requests", "2"],
        env=cli_env(home), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    by_id = {line["id"]: line for line in read_lines(results)}
    assert by_id["stuck"]["status"] == "timed_out"
    assert by_id["stuck"]["error"] == "timed out after 1 s"
    assert [by_id[n]["final_message"] for n in names] == [f"{n} done" for n in names]
    # Never more than the cap (how many overlap below it depends on exec start-up times).
    assert 1 <= fake_server.peak_concurrent_requests <= 2
    summary = r"model requests: [56] · most at once: [12] · rate limited 1 times, paused 0\.\ds"
    assert re.search(summary, done.stderr), done.stderr  # the 429 was the proxy's, not exec's
    assert "[batch] stuck: timed out" in done.stderr


def test_a_progress_bar_on_a_terminal_and_lines_in_a_log(
    fake_server: FakeModelServer, home: Path, tmp_path: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"), repeat=True, latency_s=0.5)
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"id": "one", "prompt": "a"}\n')
    args = [*BATCH, str(tasks), "--progress-interval", "0.2"]
    logged = subprocess.run([*args, "-o", str(tmp_path / "log.jsonl")], env=cli_env(home),
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert logged.returncode == 0, logged.stderr
    assert re.search(r"^\[batch\] 0/1 done \(0 completed\) · 1 running · ", logged.stderr, re.M)
    assert "[batch] one: completed (" in logged.stderr
    assert logged.stdout == ""

    import pty

    leader, follower = pty.openpty()
    shown = subprocess.Popen([*args, "-o", str(tmp_path / "tty.jsonl")], env=cli_env(home),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=follower)  # fmt: skip
    os.close(follower)
    screen = _read_until_closed(leader)
    assert shown.wait(timeout=60) == 0
    assert "batch" in screen and "1/1 done (1 completed)" in screen  # the live bar's line
    assert "[batch]" not in screen  # no log lines on a terminal
    assert "completed" in screen and "results:" in screen  # the summary table


def _read_until_closed(fd: int) -> str:
    chunks = []
    try:
        while data := os.read(fd, 65536):
            chunks.append(data)
    except OSError:  # EIO: the other side of the terminal closed
        pass
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


def _next_line_with(process: subprocess.Popen[str], text: str) -> str:
    assert process.stderr is not None
    for line in process.stderr:
        if text in line:
            return line
    raise AssertionError(f"the batch ended without printing {text!r}")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": 1, "prompt": "a"}', "not json"], "tasks.jsonl:2: not a JSON object"),
        (
            ['{"id": 1, "prompt": "a"}', '{"id": 1, "prompt": "b"}'],
            ":2: id 1 already used on line 1",
        ),
        (['{"prompt": "a"}'], ":1: 'id' is required"),
        (['{"id": 1, "prompt": "a", "timeout": 3}'], ":1: unknown key 'timeout'"),
        (['{"id": 1, "prompt": "a", "sandbox": "open"}'], ":1: 'sandbox' must be one of"),
    ],
)
def test_a_bad_tasks_file_is_one_line_naming_the_line(
    home: Path, tmp_path: Path, lines: list[str], message: str
) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("\n".join(lines) + "\n")
    result = run_cli(["batch", str(tasks), "-o", str(tmp_path / "r.jsonl")], codex_home=home,
                     cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors(home: Path, tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"id": 1, "prompt": "a"}\n')
    cases = {
        "give the results file": ["batch", str(tasks)],
        "give the tasks file": ["batch", "-o", "r.jsonl"],
        "--max-concurrent-requests needs the request proxy": [
            "batch", str(tasks), "-o", "r.jsonl", "--direct", "--max-concurrent-requests", "2"],
        "--output-schema: cannot read": [
            "batch", str(tasks), "-o", "r.jsonl", "--output-schema", "missing.json"],
        "unrecognized arguments: --nope": ["batch", str(tasks), "-o", "r.jsonl", "--nope"],
    }  # fmt: skip
    for message, args in cases.items():
        result = run_cli(args, codex_home=home, cwd=tmp_path)
        assert result.returncode == 2, (message, result.stderr)
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "r.jsonl").exists()


def test_ray_flag_without_ray_says_how_to_install_it(home: Path, tmp_path: Path) -> None:
    # A `ray` package that cannot be imported stands for a machine without the extra.
    blocker = tmp_path / "no-ray"
    (blocker / "ray").mkdir(parents=True)
    (blocker / "ray" / "__init__.py").write_text("raise ImportError('No module named ray')\n")
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"id": 1, "prompt": "a"}\n')
    env = cli_env(home, PYTHONPATH=str(blocker))
    result = run_cli(["batch", str(tasks), "-o", "r.jsonl", "--ray"], codex_home=home,
                     cwd=tmp_path, env=env)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        "error: Ray is not installed; install it with: pip install 'pycodex[ray]'\n"
    )


def test_a_second_batch_on_the_same_results_file_is_refused(home: Path, tmp_path: Path) -> None:
    import fcntl

    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"id": 1, "prompt": "a"}\n')
    results = tmp_path / "r.jsonl"
    with results.open("a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        result = run_cli(["batch", str(tasks), "-o", str(results)], codex_home=home, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"error: another pycodex batch is writing {results}\n"
