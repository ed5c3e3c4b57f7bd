"""Driving `pycodex app-server`: the official SDK's config for it, and a raw JSON-lines client.

`sdk_config` points `openai_codex.CodexConfig` at this venv's `pycodex` script, as users do.
`RawAppServer` runs the process and speaks the protocol line by line, for tests of errors and
ordering below what the SDK shows; every wait is a blocking read with a timeout, never a sleep.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openai_codex import CodexConfig
from openai_codex.generated.notification_registry import NOTIFICATION_MODELS

from support.cli import cli_env

PYCODEX_BIN = str(Path(sys.executable).with_name("pycodex"))
WAIT_S = 30.0

Message = dict[str, Any]


def sdk_config(home: Path, work: Path, *overrides: str, **env: str) -> CodexConfig:
    return CodexConfig(
        codex_bin=PYCODEX_BIN,
        cwd=str(work),
        env=cli_env(home, **env),
        config_overrides=overrides,
    )


def check_notification(message: Message) -> None:
    """A notification must parse as the SDK's model for its method (else the SDK drops it)."""
    model = NOTIFICATION_MODELS.get(message["method"])
    assert model is not None, f"the SDK knows no notification {message['method']!r}"
    model.model_validate(message["params"])


class RawAppServer:
    def __init__(
        self, home: Path, work: Path, *args: str, before: tuple[str, ...] = (), **env: str
    ) -> None:
        self.proc = subprocess.Popen(
            [PYCODEX_BIN, *before, "app-server", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=work,
            env=cli_env(home, **env),
        )
        self._messages: queue.Queue[Message | None] = queue.Queue()
        self.raw_lines: list[bytes] = []
        self.stderr = b""
        self._next_id = 0
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.raw_lines.append(line)
            self._messages.put(json.loads(line))
        self._messages.put(None)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()

    # --- sending ----------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: Message) -> None:
        self.send_raw(json.dumps(message).encode() + b"\n")

    def request(self, method: str, params: dict[str, Any] | None = None) -> str:
        self._next_id += 1
        request_id = f"req-{self._next_id}"
        self.send({"id": request_id, "method": method, "params": params or {}})
        return request_id

    def call(self, method: str, params: dict[str, Any] | None = None) -> Message:
        """Send a request and return its response (notifications before it are kept)."""
        request_id = self.request(method, params)
        return self.until(lambda m: m.get("id") == request_id and "method" not in m)[-1]

    def initialize(self) -> Message:
        response = self.call("initialize", {"clientInfo": {"name": "raw_test", "version": "1"}})
        self.send({"method": "initialized"})
        return response

    # --- receiving --------------------------------------------------------------------------

    def next(self) -> Message:
        message = self._messages.get(timeout=WAIT_S)
        if message is None:
            raise AssertionError(f"app-server closed stdout; stderr: {self.stderr.decode()}")
        return message

    def until(self, done: Callable[[Message], bool]) -> list[Message]:
        """Every message up to and including the first for which `done` holds."""
        seen = []
        while True:
            message = self.next()
            seen.append(message)
            if done(message):
                return seen

    def close(self) -> int:
        """Close stdin (the client hangs up) and return the exit code."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        code = self.proc.wait(timeout=WAIT_S)
        self._release()
        return code

    def _release(self) -> None:
        for reader in self._readers:
            reader.join(timeout=WAIT_S)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> RawAppServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._release()


def turn_completed(turn_id: str) -> Callable[[Message], bool]:
    def done(message: Message) -> bool:
        return message.get("method") == "turn/completed" and (
            message["params"]["turn"]["id"] == turn_id
        )

    return done


def close_sdk_pipes(monkeypatch: Any) -> None:
    """The SDK's `CodexClient.close` ends the process but leaves its stdout and stderr pipe
    objects open (a ResourceWarning, an error under -W error): close them after it."""
    from openai_codex.client import CodexClient

    original = CodexClient.close

    def close(self: CodexClient) -> None:
        proc = self._proc
        original(self)
        if proc is not None:
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()

    monkeypatch.setattr(CodexClient, "close", close)
