"""Confinement with bubblewrap: a private mount, PID (and usually network) namespace per command.

The command sees the host's filesystem read-only (`--ro-bind / /`), a fresh `/dev` and `/proc`,
its writable roots bound read-write on top, and the protected paths inside them bound read-only
again last, so the innermost mount wins. A new PID namespace means it can neither see nor signal
processes outside, and everything it leaves behind is killed when it exits (bwrap's PID 1 ends
and the kernel tears the namespace down).

Why not `--new-session`, which upstream passes: pycodex already starts every child in a session
of its own, on pipes or on a private PTY that must stay its controlling terminal (`isatty`, job
control, `/dev/tty`). A second `setsid` inside bwrap would detach it from that terminal, and the
terminal-injection attack `--new-session` guards against needs the user's terminal, which a
sandboxed command never has.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from pycodex._records import dataclass
from pycodex.execution.sandbox_roots import WritableLayout

_PROBE_TIMEOUT_S = 10.0
# The flags every invocation shares. As root, bwrap runs "privileged" and would otherwise keep
# every capability inside, enough to remount `/` read-write; dropping them all closes that.
_BASE_FLAGS = ("--cap-drop", "ALL", "--die-with-parent", "--unshare-pid")


@dataclass(frozen=True, slots=True)
class BwrapProbe:
    """What probing bwrap found: its path and whether it may create a user namespace."""

    executable: str | None
    user_namespace: bool
    failure: str | None

    @property
    def usable(self) -> bool:
        return self.executable is not None and self.failure is None


def probe_bwrap(search_path: str | None) -> BwrapProbe:
    """Find bwrap on `search_path` and check it can build a sandbox like ours, on `true`.

    A user namespace is preferred (mounts inherited into it are locked, so even a process that
    regained capabilities could not remount them), but root may run without one where user
    namespaces are disabled; capabilities are dropped either way.
    """
    executable = shutil.which("bwrap", path=search_path)
    if executable is None:
        return BwrapProbe(None, False, "bwrap was not found on PATH")
    failure = ""
    for user_namespace in (True, False):
        trial = BwrapProbe(executable, user_namespace, None)
        failure = _try_sandbox(trial)
        if not failure:
            return trial
    return BwrapProbe(executable, False, f"{executable} cannot create a sandbox here: {failure}")


def _try_sandbox(trial: BwrapProbe) -> str:
    """Run `true` in a sandbox like the ones commands get (seccomp filter included); why not."""
    from pycodex.execution import seccomp

    seccomp_fd = seccomp.program_descriptor(network=False) if seccomp.supported() else None
    prefix = bwrap_prefix(trial, _probe_layout(), Path("/"), network=False, seccomp_fd=seccomp_fd)
    try:
        completed = subprocess.run(
            [*prefix, "true"],
            capture_output=True,
            timeout=_PROBE_TIMEOUT_S,
            check=False,
            pass_fds=() if seccomp_fd is None else (seccomp_fd,),
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    finally:
        if seccomp_fd is not None:
            os.close(seccomp_fd)
    if completed.returncode == 0:
        return ""
    return _first_line(completed.stderr) or f"exit status {completed.returncode}"


def bwrap_prefix(
    probe: BwrapProbe,
    layout: WritableLayout,
    cwd: Path,
    *,
    network: bool,
    private_tmp: bool = False,
    seccomp_fd: int | None = None,
) -> list[str]:
    """The bwrap command line up to and including `--`; the command's argv follows it.

    `seccomp_fd` is a descriptor the child inherits, holding the seccomp program bwrap loads
    just before it executes the command.
    """
    assert probe.executable is not None
    argv = [probe.executable, *_BASE_FLAGS]
    if probe.user_namespace:
        argv.append("--unshare-user")
    if not network:
        argv.append("--unshare-net")
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    argv += _filesystem_flags(layout, cwd, private_tmp=private_tmp)
    argv += ["--chdir", str(cwd), "--"]
    return argv


SCRATCH_DIR = "/dev/shm"


def _filesystem_flags(layout: WritableLayout, cwd: Path, *, private_tmp: bool) -> list[str]:
    # Order matters: each mount covers what an earlier one put at the same place.
    flags = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    if private_tmp:
        # Read-only commands keep reading all of /tmp; their scratch space is a private tmpfs
        # at /dev/shm (TMPDIR points there), gone with the command.
        flags += ["--tmpfs", SCRATCH_DIR]
    for root in layout.writable:
        flags += ["--bind", str(root), str(root)]
    for path in layout.protected:
        flags += ["--ro-bind", str(path), str(path)]
    return flags


def _probe_layout() -> WritableLayout:
    return WritableLayout(writable=(), protected=())


def _first_line(stderr: bytes) -> str:
    text = stderr.decode("utf-8", errors="replace").strip()
    return text.splitlines()[0] if text else ""


def describe(probe: BwrapProbe) -> str:
    namespaces = "user, mount, pid" if probe.user_namespace else "mount, pid"
    from pycodex.execution import seccomp

    filtered = ", seccomp filter" if seccomp.supported() else ", no seccomp filter on this machine"
    return f"bubblewrap at {probe.executable} ({namespaces} and network namespaces{filtered})"


def command_for(
    probe: BwrapProbe,
    layout: WritableLayout,
    cwd: Path,
    argv: Sequence[str],
    *,
    network: bool,
    private_tmp: bool,
    seccomp_fd: int | None,
) -> tuple[str, ...]:
    prefix = bwrap_prefix(
        probe, layout, cwd, network=network, private_tmp=private_tmp, seccomp_fd=seccomp_fd
    )
    return (*prefix, *argv)
