"""The 50-task batch on a local Ray cluster started here (`ray.init(num_cpus=2)`): the same
results as the local pool; and `pycodex batch --ray auto` joining that cluster.

Slow (a Ray cluster starts in several seconds and each batch runs 50+ exec processes): runs
with PYCODEX_SLOW_TESTS=1, as CI does.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pycodex.batch import (
    BatchSettings,
    ExecOptions,
    LocalExecutor,
    RayExecutor,
    read_results,
    run,
)
from support import sse_builders as sse
from support.batch_scenario import TASK_IDS, comparable, write_scenario
from support.cli import API_KEY, cli_env, write_config
from support.fake_server import FakeModelServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    with pytest.MonkeyPatch.context() as patch:
        # The workers start now and keep this environment: their working copies go here.
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("ray-cache")))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING)  # fmt: skip
        try:
            yield ray
        finally:
            ray.shutdown()


def run_scenario(executor: Any, root: Path) -> dict[str, dict[str, Any]]:
    """The scenario on a fresh fake server; each result line by task id."""
    root.mkdir()
    with FakeModelServer() as server:
        home = root / "home"
        write_config(home, server)
        scenario = write_scenario(root, server)
        tasks = [json.loads(line) for line in scenario.tasks_path.read_text().splitlines()]
        options = ExecOptions(env={"CODEX_HOME": str(home), "FAKE_API_KEY": API_KEY})
        results = run(tasks, executor, exec_options=options, settings=BatchSettings(retries=1),
                      results=root / "results.jsonl")  # fmt: skip
        with results:
            by_id = {result.key: result.to_wire() for result in results}
    assert sorted(by_id) == TASK_IDS
    for task_id, expected in scenario.expected().items():
        assert {k: by_id[task_id][k] for k in expected} == expected, by_id[task_id]
    return by_id


def test_the_fifty_task_batch_on_ray_matches_the_local_pool(
    ray_cluster: Any, tmp_path: Path
) -> None:
    local = run_scenario(LocalExecutor(2), tmp_path / "local")
    on_ray = run_scenario(RayExecutor(), tmp_path / "ray")
    # Paths inside diffs and errors are the same: both ran the scenario from the same layout.
    assert {k: comparable(v) for k, v in on_ray.items()} == {
        k: _relocated(comparable(v)) for k, v in local.items()
    }
    completed = [line for line in on_ray.values() if line["status"] == "completed"]
    assert all(Path(line["session_file"]).is_file() for line in completed)  # one machine here


def _relocated(line: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(line).replace("/local/", "/ray/")
    return dict(json.loads(text))


def test_the_command_line_joins_a_running_cluster(
    ray_cluster: Any, fake_server: FakeModelServer, home: Path, tmp_path: Path
) -> None:
    for n in range(3):
        fake_server.expect_sse("/v1/responses", sse.assistant_reply(f"ray {n}"), marker=f"[r{n}]")
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps({"id": n, "prompt": f"[r{n}]"}) + "\n" for n in range(3)))
    results = tmp_path / "results.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "pycodex", "batch", str(tasks), "-o", str(results), "--ray", "auto",
         "--forward-env", "CODEX_HOME", "--forward-env", "FAKE_API_KEY",
         "--max-concurrent-requests", "1"],
        env=cli_env(home), capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert sorted((line["id"], line["final_message"]) for line in lines) == [
        (n, f"ray {n}") for n in range(3)
    ]
    assert "model requests: 3 · most at once: 1" in done.stderr
    assert fake_server.peak_concurrent_requests == 1


def test_cancelling_a_ray_attempt_stops_its_exec(
    ray_cluster: Any, fake_server: FakeModelServer, home: Path, tmp_path: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("x"), stall_after=1)
    options = ExecOptions(env={"CODEX_HOME": str(home), "FAKE_API_KEY": API_KEY})
    batch = run([{"id": "stuck", "prompt": "wait"}], RayExecutor(), exec_options=options,
                results=tmp_path / "results.jsonl")  # fmt: skip
    with batch:
        fake_server.wait_for_requests(1, timeout_s=120)
    fake_server.wait_until_idle(timeout_s=60)  # the worker killed exec: it hung up
    written = read_results(tmp_path / "results.jsonl")
    assert (written["stuck"].status, written["stuck"].error) == ("cancelled", "cancelled")
