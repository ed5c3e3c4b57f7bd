"""`pycodex.batch.run` / `arun`: the same batches from Python, without a batch subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.batch import (
    BatchSettings,
    ExecOptions,
    LocalExecutor,
    TaskFileError,
    arun,
    read_results,
    run,
)
from support import sse_builders as sse
from support.batch_scenario import marker
from support.cli import API_KEY
from support.fake_server import FakeModelServer

PATH = "/v1/responses"


@pytest.fixture(autouse=True)
def _own_cache_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Working copies go under $XDG_CACHE_HOME; keep them in the test's directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def options(home: Path) -> ExecOptions:
    return ExecOptions(env={"CODEX_HOME": str(home), "FAKE_API_KEY": API_KEY})


def test_run_yields_results_as_tasks_finish_and_resumes(
    fake_server: FakeModelServer, home: Path, tmp_path: Path
) -> None:
    for n in range(3):
        fake_server.expect_sse(PATH, sse.assistant_reply(f"answer {n}"), marker=marker(f"t{n}"))
    tasks = [{"id": f"t{n}", "prompt": f"{marker(f't{n}')} go", "metadata": {"n": n}}
             for n in range(3)]  # fmt: skip
    results = tmp_path / "results.jsonl"
    with run(tasks, LocalExecutor(2), exec_options=options(home), results=results) as batch:
        got = {r.id: r for r in batch}
    assert {k: (r.status, r.final_message, r.metadata) for k, r in got.items()} == {
        f"t{n}": ("completed", f"answer {n}", {"n": n}) for n in range(3)
    }
    assert batch.progress.completed == 3
    assert read_results(results) == {r.key: r for r in got.values()}
    assert list(run(tasks, LocalExecutor(2), exec_options=options(home), results=results)) == []


def test_closing_a_run_cancels_what_is_still_running(
    fake_server: FakeModelServer, home: Path, tmp_path: Path
) -> None:
    fake_server.expect_sse(PATH, sse.assistant_reply("quick"), marker="[quick]")
    fake_server.expect_sse(PATH, sse.assistant_reply("x"), stall_after=1, marker="[stuck]")
    tasks = [{"id": "stuck", "prompt": "[stuck]"}, {"id": "quick", "prompt": "[quick]"}]
    results = tmp_path / "results.jsonl"
    settings = BatchSettings(cancel_grace_s=5)
    batch = run(tasks, LocalExecutor(2), exec_options=options(home), settings=settings,
                results=results)  # fmt: skip
    first = next(batch)
    fake_server.wait_for_requests(2, timeout_s=60)  # the stuck task is waiting on the model
    batch.close()
    assert (first.id, first.status) == ("quick", "completed")
    written = read_results(results)
    assert set(written) == {"quick", "stuck"}
    assert written["stuck"].status == "cancelled"
    assert list(batch) == []


async def test_arun_in_a_running_loop(
    fake_server: FakeModelServer, home: Path, tmp_path: Path
) -> None:
    fake_server.expect_sse(PATH, sse.assistant_reply("async answer"))
    found = [r async for r in arun([{"id": 1, "prompt": "hi"}], exec_options=options(home))]
    assert [(r.id, r.status, r.final_message) for r in found] == [(1, "completed", "async answer")]


def test_bad_tasks_are_reported_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(TaskFileError, match="task 1: 'prompt' is required"):
        run([{"id": 1}], results=tmp_path / "r.jsonl")
    with pytest.raises(TaskFileError, match="task id 'a' is used twice"):
        run([{"id": "a", "prompt": "x"}, {"id": "a", "prompt": "y"}])
    assert not (tmp_path / "r.jsonl").exists()
