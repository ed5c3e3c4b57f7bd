"""The sandbox seam: every command pycodex spawns is passed through `prepare_command` first.

Linux mechanisms, best first, behind this one interface:

- bubblewrap (`sandbox_bwrap`): mount, PID and network namespaces; the whole policy.
- Landlock (`landlock`, `landlock_exec`): where bwrap is missing or cannot create namespaces.
  Filesystem writes are confined by a private read-only mount view plus Landlock rules, stray
  processes by a subreaper wrapper.

Both run the command under the same seccomp filter (`seccomp`): no ptrace, no io_uring, and
with the network off no socket(2) at all, so host Unix sockets are out of reach too.

`read-only` and `workspace-write` never run unconfined: with no working mechanism,
`prepare_command` raises `SandboxUnavailableError`, whose message is the one line to show the
user. `danger-full-access` runs the command as given.

Confined commands see `CODEX_SANDBOX=<mechanism>` (upstream sets `seatbelt` on macOS and nothing
on Linux; naming the mechanism keeps the variable's meaning, "you are confined") and
`CODEX_SANDBOX_NETWORK_DISABLED=1` when the network is off, the names tools in the wild test.

The mechanism is probed once per process (per `PATH` and override), on first use, never at
import. `PYCODEX_SANDBOX_MECHANISM=bwrap|landlock` forces one (for tests and diagnosis); a forced
mechanism that does not work is an error, not a reason to fall back.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pycodex._records import dataclass, field, replace
from pycodex.execution import sandbox_bwrap
from pycodex.execution.sandbox_roots import layout_for
from pycodex.protocol.policies import SandboxMode, SandboxPolicy

Mechanism = Literal["bwrap", "landlock"]
MECHANISM_OVERRIDE_ENV = "PYCODEX_SANDBOX_MECHANISM"
SANDBOX_ENV = "CODEX_SANDBOX"
NETWORK_DISABLED_ENV = "CODEX_SANDBOX_NETWORK_DISABLED"
_PROBE_TIMEOUT_S = 10.0
_LANDLOCK_SCOPES_ABI = 6
INSTALL_HINT = (
    "install bubblewrap (apt-get install bubblewrap) or run with --sandbox danger-full-access"
)
# Runs the Landlock wrapper without site-packages or PYTHON* variables: fast and unaffected by
# the environment the command itself is given.
_LANDLOCK_BOOTSTRAP = (
    "import sys; sys.path.insert(0, {src!r}); "
    "from pycodex.execution.landlock_exec import main; sys.exit(main(sys.argv[1:]))"
)


class SandboxUnavailableError(RuntimeError):
    """No sandbox mechanism works here and the policy requires one. `str()` is one line.

    Deliberately not an OSError: callers that report spawn failures to the model and carry on
    must not treat this as an ordinary failed command.
    """


@dataclass(frozen=True, slots=True)
class SandboxStatus:
    """Which mechanism confines commands here, or why none can (`detail`, one line)."""

    mechanism: Mechanism | None
    detail: str
    # False under Landlock where no seccomp filter exists for this architecture: the network,
    # host Unix sockets and ptrace are then not blocked.
    network_blockable: bool = True

    @property
    def available(self) -> bool:
        return self.mechanism is not None


@dataclass(frozen=True, slots=True)
class PreparedCommand:
    """The command line to execute and what the sandbox adds to its environment.

    `enforced` is True only when the policy is really applied by the operating system;
    `degraded` names any part of the policy the mechanism could not enforce. `pass_fds` are
    descriptors the child must inherit under the same numbers (bwrap reads its seccomp program
    from one); they belong to the caller, who closes them (`close()`) once the child started.
    """

    argv: tuple[str, ...]
    env_overrides: dict[str, str] = field(default_factory=dict)
    enforced: bool = False
    degraded: str | None = None
    pass_fds: tuple[int, ...] = ()

    def close(self) -> None:
        for fd in self.pass_fds:
            os.close(fd)


def sandbox_status() -> SandboxStatus:
    """Probe (once, then cached) which mechanism can confine commands on this machine."""
    return _probe(os.environ.get(MECHANISM_OVERRIDE_ENV, ""), os.environ.get("PATH", os.defpath))


def sandbox_enforcement_available() -> bool:
    """Whether this machine can confine commands."""
    return sandbox_status().available


def unavailable_message(status: SandboxStatus) -> str:
    return f"sandbox unavailable: {status.detail}; {INSTALL_HINT}"


def prepare_command(argv: Sequence[str], cwd: Path, policy: SandboxPolicy) -> PreparedCommand:
    """Wrap `argv` so it runs confined by `policy` (unchanged under danger-full-access)."""
    if not argv:
        raise ValueError("cannot run an empty command")
    if policy.mode is SandboxMode.DANGER_FULL_ACCESS:
        return PreparedCommand(argv=tuple(argv))
    status = sandbox_status()
    if status.mechanism is None:
        raise SandboxUnavailableError(unavailable_message(status))
    network = policy.has_full_network_access
    env: dict[str, str] = {SANDBOX_ENV: status.mechanism}
    if not network:
        env[NETWORK_DISABLED_ENV] = "1"
    if policy.mode is SandboxMode.READ_ONLY:
        env["TMPDIR"] = sandbox_bwrap.SCRATCH_DIR
    if status.mechanism == "bwrap":
        return _bwrap_command(argv, cwd, policy, env)
    degraded = None if status.network_blockable else _no_filter_gap(network=network)
    return PreparedCommand(_landlock_argv(argv, cwd, policy), env, True, degraded)


def _no_filter_gap(*, network: bool) -> str:
    blocked = "ptrace" if network else "the network, host Unix sockets and ptrace"
    return f"{blocked} not blocked: no seccomp filter for this architecture"


def _bwrap_command(
    argv: Sequence[str], cwd: Path, policy: SandboxPolicy, env: dict[str, str]
) -> PreparedCommand:
    from pycodex.execution import seccomp

    probe = _bwrap_probe(os.environ.get("PATH", os.defpath))
    network = policy.has_full_network_access
    layout = layout_for(policy, cwd)
    seccomp_fd = seccomp.program_descriptor(network) if seccomp.supported() else None
    full_argv = sandbox_bwrap.command_for(
        probe,
        layout,
        cwd,
        argv,
        network=network,
        # Read-only commands still get scratch space (TMPDIR); it vanishes with them.
        private_tmp=policy.mode is SandboxMode.READ_ONLY,
        seccomp_fd=seccomp_fd,
    )
    if seccomp_fd is None:
        # bwrap's namespaces still keep the network out; the filter's other denials are missing.
        return PreparedCommand(full_argv, env, True, "host Unix sockets and ptrace not blocked")
    return PreparedCommand(full_argv, env, True, pass_fds=(seccomp_fd,))


def _landlock_argv(argv: Sequence[str], cwd: Path, policy: SandboxPolicy) -> tuple[str, ...]:
    from pycodex.execution.landlock_exec import LandlockPlan

    layout = layout_for(policy, cwd)
    plan = LandlockPlan(
        writable=tuple(str(path) for path in layout.writable),
        protected=tuple(str(path) for path in layout.protected),
        network=policy.has_full_network_access,
        # Every mode gets a private, writable /dev/shm, as bwrap's fresh /dev gives: POSIX
        # semaphores and shared memory (Python's multiprocessing) live there. Read-only mode's
        # TMPDIR points there too.
        private_tmp=True,
    )
    src = str(Path(__file__).resolve().parents[2])
    bootstrap = _LANDLOCK_BOOTSTRAP.format(src=src)
    return (sys.executable, "-I", "-S", "-c", bootstrap, plan.to_json(), "--", *argv)


@functools.cache
def _bwrap_probe(search_path: str) -> sandbox_bwrap.BwrapProbe:
    return sandbox_bwrap.probe_bwrap(search_path)


@functools.cache
def _probe(override: str, search_path: str) -> SandboxStatus:
    if override not in ("", "bwrap", "landlock"):
        return SandboxStatus(
            None, f"{MECHANISM_OVERRIDE_ENV}={override!r} is not bwrap or landlock"
        )
    failures: list[str] = []
    if override in ("", "bwrap"):
        bwrap = _bwrap_probe(search_path)
        if bwrap.usable:
            return SandboxStatus("bwrap", sandbox_bwrap.describe(bwrap))
        failures.append(bwrap.failure or "bwrap unusable")
    if override in ("", "landlock"):
        landlock_status = _probe_landlock()
        if landlock_status.mechanism is None:
            failures.append(landlock_status.detail)
        else:
            suffix = f" (bubblewrap unusable: {failures[0]})" if failures else ""
            return replace(landlock_status, detail=landlock_status.detail + suffix)
    return SandboxStatus(None, "; ".join(failures))


def _probe_landlock() -> SandboxStatus:
    """Check the kernel's Landlock ABI, then run the real wrapper once, on `true`."""
    from pycodex.execution import landlock, seccomp

    abi, reason = landlock.landlock_abi()
    if not abi:
        return SandboxStatus(None, f"Landlock unavailable: {reason}")
    filtered = seccomp.supported()
    argv = _landlock_argv(["true"], Path("/"), SandboxPolicy.read_only())
    try:
        completed = subprocess.run(
            argv, cwd="/", capture_output=True, timeout=_PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return SandboxStatus(None, f"Landlock wrapper failed: {err}")
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", errors="replace").strip().splitlines()
        return SandboxStatus(None, message[0] if message else "Landlock wrapper failed")
    detail = f"Landlock ABI {abi} with a private mount namespace"
    if abi < _LANDLOCK_SCOPES_ABI:
        detail += (
            "; signals to processes outside, and with the network on abstract Unix sockets of"
            " the host, are not blocked (needs Landlock ABI 6)"
        )
    if not filtered:
        detail += "; the network cannot be blocked on this architecture"
    return SandboxStatus("landlock", detail, network_blockable=filtered)
