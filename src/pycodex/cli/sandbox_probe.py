"""Probe the sandbox in the background while the rest of `pycodex exec` loads.

`exec` refuses to start when the sandbox it needs cannot work, so it must know which mechanism
this machine has before the turn begins. Finding out runs `bwrap ... true` once (10-30 ms on slow
machines). Started before the engine's modules are imported, that wait overlaps the imports
instead of adding to them. The thread only calls `sandbox_status()`, whose result is cached;
`current_status()` waits for it and returns the same value.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from pycodex.execution.sandbox import SandboxStatus, sandbox_status

_DANGER = "danger-full-access"
_BYPASS_FLAGS = frozenset({"--yolo", "--dangerously-bypass-approvals-and-sandbox"})


class _Probe:
    thread: threading.Thread | None = None


def start_early(argv: Sequence[str]) -> None:
    """Begin probing unless the command line already turns the sandbox off."""
    if _Probe.thread is not None or _bypasses_sandbox(argv):
        return
    thread = threading.Thread(target=_probe_quietly, name="pycodex-sandbox-probe", daemon=True)
    _Probe.thread = thread
    thread.start()


def current_status() -> SandboxStatus:
    """The sandbox status, waiting for a probe `start_early` began."""
    thread = _Probe.thread
    if thread is not None:
        thread.join()
    return sandbox_status()


def _probe_quietly() -> None:
    try:
        sandbox_status()
    except Exception:
        return


def _bypasses_sandbox(argv: Sequence[str]) -> bool:
    """A cheap look at the raw arguments; a config file may still turn the sandbox off."""
    for index, arg in enumerate(argv):
        if arg == "--":
            return False
        if arg in _BYPASS_FLAGS or arg in (f"--sandbox={_DANGER}", f"-s{_DANGER}"):
            return True
        following = argv[index + 1] if index + 1 < len(argv) else ""
        if arg in ("-s", "--sandbox") and following == _DANGER:
            return True
    return False
