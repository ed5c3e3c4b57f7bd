"""The managed server: started through the detached supervisor, found again, stopped, stopped
when idle, its prompt cache saved and restored; `fake_llama_server.py` plays llama-server."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pycodex.local import loopback
from pycodex.local.errors import LocalModelError
from pycodex.local.manifest import MANIFEST_ENV, Manifest, load_manifest
from pycodex.local.paths import LocalPaths
from pycodex.local.server import ServerSettings, ensure_server, running_server, stop_server
from pycodex.local.state import lease, pid_alive, read_state
from support import local_model as fake


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Wait for a condition another process brings about (polled: it has no event to wait on)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Server:
    def __init__(self, tmp_path: Path) -> None:
        data = fake.model_bytes(1000)
        self.paths = LocalPaths(tmp_path / "cache")
        fake.installed_cache(self.paths.root, data)
        self.log = tmp_path / "llama.jsonl"
        self.env = {
            MANIFEST_ENV: str(fake.manifest(tmp_path / "manifest.json", data, parts=1)),
            "FAKE_LLAMA_LOG": str(self.log),
        }
        self.manifest: Manifest = load_manifest(self.env)

    def settings(self, idle_timeout_s: float = 600.0) -> ServerSettings:
        return ServerSettings(port=0, ctx_size=2048, idle_timeout_s=idle_timeout_s, threads=1)

    def start(self, idle_timeout_s: float = 600.0, **env: str) -> Any:
        full_env = {**self.env, **env}
        return ensure_server(self.paths, self.manifest, self.settings(idle_timeout_s), full_env)

    def requests(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    made = Server(tmp_path)
    # The supervisor inherits the environment: the fake server reads its log path from it.
    monkeypatch.setenv("FAKE_LLAMA_LOG", str(made.log))
    try:
        yield made
    finally:
        stop_server(made.paths)


def test_start_reports_the_real_context_size_and_reuses_the_server(server: Server) -> None:
    state = server.start()
    assert state.ready and state.n_ctx == 2048 and state.threads == 1
    assert loopback.healthy(state.port)
    argv = server.requests()[0]["argv"]
    assert argv[argv.index("--alias") + 1] == fake.MODEL_ID
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert "--jinja" in argv and argv[argv.index("--chat-template-file") + 1].endswith(".jinja")
    assert argv[argv.index("--threads") + 1] == "1"
    again = server.start()
    assert (again.supervisor_pid, again.port) == (state.supervisor_pid, state.port)
    assert sum("argv" in entry for entry in server.requests()) == 1


def test_stop_ends_both_processes_and_forgets_the_state(server: Server) -> None:
    state = server.start()
    assert stop_server(server.paths)
    assert not pid_alive(state.supervisor_pid) and not pid_alive(state.server_pid)
    assert read_state(server.paths) is None and running_server(server.paths) is None
    assert not stop_server(server.paths)


def test_a_server_that_cannot_load_is_one_clear_error(server: Server) -> None:
    with pytest.raises(LocalModelError) as caught:
        server.start(FAKE_LLAMA_FAIL="load")
    message = str(caught.value)
    assert message.startswith("the local server did not start: llama-server exited with code 1")
    assert "failed to load model" in message and "server.log" in message
    assert read_state(server.paths) is None


def test_idle_timeout_stops_the_server_but_not_while_leased(server: Server) -> None:
    state = server.start(idle_timeout_s=0.3)
    with lease(server.paths):
        # A leased server outlives several idle timeouts.
        wait_until(lambda: len([r for r in server.requests() if r.get("path") == "/slots"]) >= 4)
        assert pid_alive(state.supervisor_pid)
    wait_until(lambda: not pid_alive(state.supervisor_pid))
    assert not pid_alive(state.server_pid)
    assert read_state(server.paths) is None


def test_the_prompt_cache_is_saved_after_use_and_restored_on_the_next_start(
    server: Server,
) -> None:
    state = server.start()
    body = {"model": fake.MODEL_ID, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    reply = loopback.request_json(state.port, "POST", "/v1/chat/completions", body)
    assert reply is not None and reply.status == 200
    slot = server.paths.slots / "prefix.bin"
    stop_server(server.paths)
    assert json.loads(slot.read_text()) == body["messages"]  # saved when stopping after use
    server.start()
    restores = [r for r in server.requests() if r.get("path") == "/slots/0?action=restore"]
    assert restores == [
        {"method": "POST", "path": "/slots/0?action=restore", "body": {"filename": "prefix.bin"}}
    ]


def test_a_server_for_another_model_is_replaced(server: Server, tmp_path: Path) -> None:
    first = server.start()
    other = fake.manifest(tmp_path / "other.json", fake.model_bytes(1000), parts=1, id="other-id")
    server.env[MANIFEST_ENV] = str(other)
    server.manifest = load_manifest(server.env)
    second = server.start()
    assert second.model_id == "other-id"
    assert not pid_alive(first.supervisor_pid)


def test_not_installed_is_a_clear_error(tmp_path: Path) -> None:
    paths = LocalPaths(tmp_path / "empty")
    settings = ServerSettings(port=0, ctx_size=2048, idle_timeout_s=60.0, threads=1)
    with pytest.raises(LocalModelError, match="not installed: run `pycodex local install`"):
        ensure_server(paths, load_manifest({}), settings, {})
