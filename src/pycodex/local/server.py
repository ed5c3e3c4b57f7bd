"""Starting, finding and stopping the managed llama-server.

`ensure_server` is what `pycodex exec --oss` calls: it returns the running server, or starts one
(through the detached supervisor, see `supervisor.py`) and waits until it is ready. Starts are
serialized by a lock file, so two runs started at once share one server.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from pycodex._records import dataclass
from pycodex.local import build, cpu, loopback, model_files
from pycodex.local.errors import LocalModelError
from pycodex.local.manifest import Manifest
from pycodex.local.paths import LocalPaths
from pycodex.local.state import ServerLaunch, ServerState, pid_alive, read_state

PORT_ENV = "PYCODEX_LOCAL_PORT"
CTX_ENV = "PYCODEX_LOCAL_CTX"
IDLE_ENV = "PYCODEX_LOCAL_IDLE_TIMEOUT"
DEFAULT_PORT = 11435
DEFAULT_CTX = 16384
SMALL_CTX = 8192
DEFAULT_IDLE_TIMEOUT_S = 900.0
CHECK_INTERVAL_S = 2.0
READY_TIMEOUT_S = 300.0
_READY_POLL_S = 0.1
_TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    port: int
    ctx_size: int
    idle_timeout_s: float
    threads: int | None = None  # None: measured at start (`cpu.choose_threads`)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ServerSettings:
        return cls(
            port=_int(env, PORT_ENV, DEFAULT_PORT),
            ctx_size=_int(env, CTX_ENV, 0) or default_ctx_size(),
            idle_timeout_s=float(_int(env, IDLE_ENV, int(DEFAULT_IDLE_TIMEOUT_S))),
        )


def default_ctx_size() -> int:
    """16k tokens (about 0.5 GiB of cache for this model), 8k when memory is short."""
    available = _available_memory()
    return SMALL_CTX if available is not None and available < 4 * 2**30 else DEFAULT_CTX


def running_server(paths: LocalPaths) -> ServerState | None:
    """The ready, healthy managed server, if there is one."""
    state = read_state(paths)
    if state is None or not state.ready or not pid_alive(state.supervisor_pid):
        return None
    return state if loopback.healthy(state.port) else None


def ensure_server(
    paths: LocalPaths,
    manifest: Manifest,
    settings: ServerSettings,
    env: Mapping[str, str],
) -> ServerState:
    """The running server for the manifest's model, started if needed; raises LocalModelError."""
    try:
        with _locked(paths.start_lock):
            state = running_server(paths)
            if state is not None and state.model_id == manifest.model.id:
                return state
            _stop_locked(paths)
            return _start_locked(paths, manifest, settings, env)
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        reason = err.strerror or str(err)
        raise LocalModelError(f"cannot start the local server: {where}{reason}") from None


def stop_server(paths: LocalPaths) -> bool:
    """Stop the managed server; False when none was running."""
    with _locked(paths.start_lock):
        return _stop_locked(paths)


def _start_locked(
    paths: LocalPaths, manifest: Manifest, settings: ServerSettings, env: Mapping[str, str]
) -> ServerState:
    if not model_files.model_ready(paths, manifest.model):
        raise LocalModelError("the local model is not installed: run `pycodex local install`")
    if not build.server_ready(paths, manifest.source):
        raise LocalModelError("llama-server is not built: run `pycodex local install`")
    for directory in (paths.server, paths.leases, paths.slots):
        directory.mkdir(parents=True, exist_ok=True)
    launch = ServerLaunch(
        binary=str(build.binary_path(paths, manifest.source)),
        model_file=str(model_files.model_path(paths, manifest.model)),
        model_id=manifest.model.id,
        template=str(_TEMPLATES / manifest.model.chat_template),
        port=_free_port(settings.port),
        ctx_size=settings.ctx_size,
        threads=settings.threads or cpu.choose_threads(env),
        idle_timeout_s=settings.idle_timeout_s,
        check_interval_s=min(CHECK_INTERVAL_S, max(settings.idle_timeout_s / 4, 0.05)),
        state_file=str(paths.state_file),
        log_file=str(paths.server_log),
        leases_dir=str(paths.leases),
        slots_dir=str(paths.slots),
    )
    launch_file = paths.server / "launch.json"
    launch_file.write_text(launch.to_json(), encoding="utf-8")
    supervisor_pid = _spawn_supervisor(launch_file, env)
    return _wait_ready(paths, supervisor_pid)


def _spawn_supervisor(launch_file: Path, env: Mapping[str, str]) -> int:
    command = [sys.executable, "-m", "pycodex.local.supervisor", str(launch_file), "--detach"]
    done = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=dict(env),
        check=False,
    )
    pid = done.stdout.strip()
    if done.returncode != 0 or not pid.isdigit():
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise LocalModelError(f"cannot start the local server's supervisor: {reason}")
    return int(pid)


def _wait_ready(paths: LocalPaths, supervisor_pid: int) -> ServerState:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        state = read_state(paths)
        if state is not None and state.supervisor_pid == supervisor_pid:
            if state.ready:
                return state
            if state.error:
                _stop_locked(paths)
                raise LocalModelError(f"the local server did not start: {state.error}")
        if not pid_alive(supervisor_pid):
            raise LocalModelError(
                f"the local server's supervisor exited before it was ready (see {paths.server_log})"
            )
        time.sleep(_READY_POLL_S)
    _stop_locked(paths)
    raise LocalModelError(
        f"the local server was not ready after {READY_TIMEOUT_S:.0f} s (see {paths.server_log})"
    )


def _stop_locked(paths: LocalPaths) -> bool:
    state = read_state(paths)
    if state is None:
        return False
    stopped = False
    if pid_alive(state.supervisor_pid):
        os.kill(state.supervisor_pid, signal.SIGTERM)
        stopped = _wait_gone(state.supervisor_pid, 30.0)
    if state.server_pid and pid_alive(state.server_pid):
        # The supervisor is gone or stuck: the server must not outlive it.
        os.kill(state.server_pid, signal.SIGKILL)
        _wait_gone(state.server_pid, 5.0)
        stopped = True
    if pid_alive(state.supervisor_pid):
        os.kill(state.supervisor_pid, signal.SIGKILL)
    paths.state_file.unlink(missing_ok=True)
    return stopped or state.ready


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _free_port(preferred: int) -> int:
    """`preferred` when nothing listens there, else any free loopback port."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # As the server will: a port whose last connections linger in TIME_WAIT is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            chosen: int = probe.getsockname()[1]
            return chosen
    raise LocalModelError("no free port on 127.0.0.1 for the local server")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise LocalModelError(f"{name}={raw!r} is not a whole number") from None
    if value < 0:
        raise LocalModelError(f"{name}={raw!r} must not be negative")
    return value


def _available_memory() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
