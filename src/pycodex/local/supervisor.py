"""The process that keeps the managed llama-server: `python -m pycodex.local.supervisor LAUNCH`.

Started detached by `server.start_server` (with `--detach` it forks, prints the supervisor's pid
and returns at once), it runs llama-server with the settings of `LAUNCH` (a `ServerLaunch` JSON
file), waits for `/health`, restores the saved prompt cache of slot 0 if there is one, and writes
`state.json` with `ready: true` and the server's real context size. Then it watches:

- while a lease's process lives or a slot is processing, the server is in use;
- once it was used and the prompt cache was never saved, slot 0 is saved (`prefix.bin`), so a
  server started later, even after a crash, begins with the base instructions already processed;
- after `idle_timeout_s` without use, or on SIGTERM, slot 0 is saved again (when it was used),
  llama-server is stopped and `state.json` removed.

If llama-server exits or never becomes healthy, `state.json` keeps `ready: false` and an `error`
line for the process that started it. Everything llama-server prints goes to `server.log`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from pycodex.local import loopback
from pycodex.local.paths import LocalPaths
from pycodex.local.state import ServerLaunch, live_leases, write_json

_HEALTH_POLL_S = 0.2
_STOP_GRACE_S = 15.0


class Supervisor:
    def __init__(self, launch: ServerLaunch) -> None:
        self.launch = launch
        self.paths = LocalPaths(Path(launch.state_file).parent.parent)
        self.stop = threading.Event()
        self.child: subprocess.Popen[bytes] | None = None
        self.used = False  # a request was served since the server started
        self.last_task: int | None = None
        self.last_served = 0.0
        self.state: dict[str, Any] = {
            "supervisor_pid": os.getpid(),
            "port": launch.port,
            "model_id": launch.model_id,
            "threads": launch.threads,
            "ready": False,
            "started_at": time.time(),
        }

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, lambda *_: self.stop.set())
        self._write()
        with open(self.launch.log_file, "ab") as log:
            try:
                self.child = subprocess.Popen(
                    self.launch.server_argv(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            except OSError as err:
                return self._fail(f"cannot start {self.launch.binary}: {err.strerror}")
            self.state["server_pid"] = self.child.pid
            self._write()
            if not self._wait_healthy():
                return 1
            self._became_ready()
            self._watch()
            self._shut_down()
        return 0

    def _wait_healthy(self) -> bool:
        assert self.child is not None
        while not loopback.healthy(self.launch.port):
            if self.child.poll() is not None:
                code = self.child.returncode
                self._fail(f"llama-server exited with code {code}: {self._log_reason()}")
                return False
            if self.stop.wait(_HEALTH_POLL_S):
                self._shut_down()
                return False
        return True

    def _became_ready(self) -> None:
        slot = Path(self.launch.slots_dir) / self.launch.slot_file
        if slot.is_file() and not loopback.slot_action(self.launch.port, "restore", slot.name):
            _log(self.launch, f"could not restore {slot}; it is deleted")
            slot.unlink(missing_ok=True)
        self.state["n_ctx"] = loopback.context_size(self.launch.port)
        self.state["ready"] = True
        self._write()

    def _watch(self) -> None:
        assert self.child is not None
        slot = Path(self.launch.slots_dir) / self.launch.slot_file
        last_active = time.monotonic()
        seen = loopback.slot_activity(self.launch.port)
        self.last_task = seen.last_task if seen else None
        while not self.stop.wait(self.launch.check_interval_s):
            if self.child.poll() is not None:
                code = self.child.returncode
                self.state.update(ready=False, error=f"llama-server exited with code {code}")
                return
            activity = self._activity()
            if (activity is not None and activity.busy) or live_leases(self.paths):
                last_active = time.monotonic()
            last_active = max(last_active, self.last_served)
            if self.used and activity is not None and not activity.busy and not slot.is_file():
                # The first prompt processed since the cache was last saved: keep it now, in
                # case this server is killed rather than stopped.
                loopback.slot_action(self.launch.port, "save", slot.name)
            if time.monotonic() - last_active >= self.launch.idle_timeout_s:
                _log(self.launch, f"idle for {self.launch.idle_timeout_s:.0f} s: stopping")
                return

    def _activity(self) -> loopback.SlotActivity | None:
        """The slots' state; a new task id since the last look means a request was served."""
        activity = loopback.slot_activity(self.launch.port)
        if activity is not None and (activity.busy or activity.last_task != self.last_task):
            self.used, self.last_task = True, activity.last_task
            self.last_served = time.monotonic()
        return activity

    def _shut_down(self) -> None:
        child = self.child
        if child is not None and child.poll() is None:
            self._activity()
            if self.used:
                loopback.slot_action(self.launch.port, "save", self.launch.slot_file)
            child.terminate()
            try:
                child.wait(_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.paths.state_file.unlink(missing_ok=True)

    def _fail(self, error: str) -> int:
        self.state.update(ready=False, error=error)
        self._write()
        _log(self.launch, error)
        return 1

    def _write(self) -> None:
        write_json(self.paths.state_file, self.state)

    def _log_reason(self) -> str:
        lines = [line for line in _tail(Path(self.launch.log_file)) if line.strip()]
        errors = [line for line in lines if "error" in line.lower() or "failed" in line.lower()]
        chosen = errors[-1] if errors else (lines[-1] if lines else "no output")
        return chosen.strip()[:300] + f" (see {self.launch.log_file})"


def _tail(path: Path, count: int = 30) -> list[str]:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16384))
            return handle.read().decode("utf-8", "replace").splitlines()[-count:]
    except OSError:
        return []


def _log(launch: ServerLaunch, text: str) -> None:
    with open(launch.log_file, "a", encoding="utf-8") as log:
        log.write(f"pycodex supervisor: {text}\n")


def _detach(out: IO[str]) -> None:
    """Fork; the parent prints the child's pid and exits, the child leads a new session."""
    pid = os.fork()
    if pid:
        out.write(f"{pid}\n")
        out.flush()
        os._exit(0)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def main(argv: list[str]) -> int:
    if not argv:
        return 2
    launch = ServerLaunch.from_json(Path(argv[0]).read_text(encoding="utf-8"))
    if "--detach" in argv[1:]:
        _detach(sys.stdout)
    return Supervisor(launch).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
