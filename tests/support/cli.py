"""Running `pycodex` as a real subprocess against the fake model server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.fake_server import FakeModelServer

API_KEY = "sk-test-key"


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def write_config(
    codex_home: Path,
    server: FakeModelServer,
    extra: str = "",
    features: dict[str, bool] | None = None,
) -> None:
    """A config.toml pointing the `fake` provider at the server, with fast retries.

    The model is unknown to the catalog (so its safe defaults apply); `[features]` picks the
    tools the tests drive: exec_command and the freeform apply_patch unless overridden.
    """
    codex_home.mkdir(parents=True, exist_ok=True)
    chosen = {"unified_exec": True, "apply_patch_freeform": True, **(features or {})}
    feature_lines = "\n".join(f"{key} = {str(value).lower()}" for key, value in chosen.items())
    (codex_home / "config.toml").write_text(
        f"""model = "test-model"
model_provider = "fake"

[model_providers.fake]
name = "Fake"
base_url = "{server.base_url}"
env_key = "FAKE_API_KEY"
request_max_retries = 2
stream_max_retries = 2
retry_base_delay_ms = 1
stream_idle_timeout_ms = 5000
{extra}

[features]
{feature_lines}
""",
        encoding="utf-8",
    )


def cli_env(codex_home: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "CODEX_")) and key != "FAKE_API_KEY"
    }
    env.update(CODEX_HOME=str(codex_home), FAKE_API_KEY=API_KEY, NO_COLOR="1")
    env.update(extra)
    return env


def run_cli(
    args: list[str],
    *,
    codex_home: Path,
    cwd: Path,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> CliResult:
    proc = subprocess.run(
        [sys.executable, "-m", "pycodex", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env or cli_env(codex_home),
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)
