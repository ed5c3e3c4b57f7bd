"""The managed server's files: its launch settings, its state, and the leases of its users.

`state.json` is written by the supervisor (`supervisor.py`) and read by everybody else:

    {"supervisor_pid": 123, "server_pid": 124, "port": 11435, "model_id": "...",
     "n_ctx": 16384, "threads": 1, "ready": true, "error": null, "started_at": 1700000000.0}

A lease is an empty file `leases/<pid>` held by a pycodex process that uses the server (an exec
run, an interactive session); the server is not stopped for idleness while a lease's process
lives. Writes go through a temporary file and a rename, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pycodex._records import dataclass, fields
from pycodex.local.paths import LocalPaths


@dataclass(frozen=True, slots=True)
class ServerLaunch:
    """Everything the supervisor needs to run llama-server (written to `launch.json`)."""

    binary: str
    model_file: str
    model_id: str
    template: str
    port: int
    ctx_size: int
    threads: int
    idle_timeout_s: float
    check_interval_s: float
    state_file: str
    log_file: str
    leases_dir: str
    slots_dir: str
    slot_file: str = "prefix.bin"

    def server_argv(self) -> list[str]:
        return [
            self.binary,
            "--model", self.model_file,
            "--alias", self.model_id,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--ctx-size", str(self.ctx_size),
            "--parallel", "1",
            "--threads", str(self.threads),
            "--threads-batch", str(self.threads),
            "--jinja",
            "--chat-template-file", self.template,
            "--slot-save-path", self.slots_dir,
            "--no-webui",
            # Browsers may not read its answers from pages of other sites.
            "--cors-origins", "localhost",
            # Qwen's recommended sampling for its coder models: lower temperatures made the
            # 1.5B model repeat one call in a loop.
            "--temp", "0.7",
            "--top-p", "0.8",
            "--top-k", "20",
            "--repeat-penalty", "1.05",
        ]  # fmt: skip

    def to_json(self) -> str:
        return json.dumps({f.name: getattr(self, f.name) for f in fields(self)}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> ServerLaunch:
        return cls(**json.loads(text))


@dataclass(frozen=True, slots=True)
class ServerState:
    supervisor_pid: int
    port: int
    model_id: str
    ready: bool
    server_pid: int | None = None
    n_ctx: int | None = None
    threads: int | None = None
    error: str | None = None
    started_at: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def read_state(paths: LocalPaths) -> ServerState | None:
    try:
        data = json.loads(paths.state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    known = {f.name for f in fields(ServerState)}
    try:
        return ServerState(**{k: v for k, v in data.items() if k in known})
    except TypeError:
        return None


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    staging.write_text(json.dumps(data), encoding="utf-8")
    staging.replace(path)


def pid_alive(pid: int | None) -> bool:
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def live_leases(paths: LocalPaths) -> list[int]:
    """The pids of lease holders still running; leases of dead processes are removed."""
    try:
        names = os.listdir(paths.leases)
    except OSError:
        return []
    alive = []
    for name in names:
        if not name.isdigit():
            continue
        if pid_alive(int(name)):
            alive.append(int(name))
        else:
            (paths.leases / name).unlink(missing_ok=True)
    return alive


@contextmanager
def lease(paths: LocalPaths) -> Iterator[None]:
    """Hold a lease on the managed server for the duration of the block.

    A lease that cannot be written only means the idle timer may run during the block: the run
    goes on without it.
    """
    path = paths.leases / str(os.getpid())
    try:
        paths.leases.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError:
        yield
        return
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
