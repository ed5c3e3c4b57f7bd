"""The Landlock sandbox's wrapper process: restrict itself, run the command, clean up after it.

Invoked as `python -I -S -c <bootstrap> <plan-json> -- CMD...` by `sandbox.prepare_command`, so
pycodex itself is never restricted. The plan says which roots are writable, which paths inside
them stay read-only and whether the network is allowed.

Landlock has no PID namespace, so the wrapper stands in for one: it becomes a child subreaper,
runs the command as its child, and once the command exits kills every descendant that is left
(orphans of a double fork or `setsid` are re-parented to it rather than to init). Any failure to
set up a restriction stops here with exit status 126 before the command runs.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import signal
import sys
from types import FrameType

from pycodex._records import dataclass
from pycodex.execution import landlock, seccomp

SETUP_FAILED_EXIT_CODE = 126
_COMMAND_NOT_FOUND_EXIT_CODE = 127
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True, slots=True)
class LandlockPlan:
    writable: tuple[str, ...]
    protected: tuple[str, ...]
    network: bool
    # A private, writable tmpfs at /dev/shm that disappears with the command (scratch space in
    # read-only mode, where TMPDIR points there; shared memory and semaphores in every mode).
    private_tmp: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {
                "writable": self.writable,
                "protected": self.protected,
                "network": self.network,
                "private_tmp": self.private_tmp,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> LandlockPlan:
        data = json.loads(text)
        return cls(
            writable=tuple(str(path) for path in data["writable"]),
            protected=tuple(str(path) for path in data["protected"]),
            network=bool(data["network"]),
            private_tmp=bool(data.get("private_tmp", False)),
        )


def main(args: list[str]) -> int:
    if len(args) < 3 or args[1] != "--":
        sys.stderr.write("usage: landlock_exec PLAN-JSON -- COMMAND [ARGS...]\n")
        return SETUP_FAILED_EXIT_CODE
    try:
        plan = LandlockPlan.from_json(args[0])
        apply_plan(plan)
    except (OSError, ValueError, KeyError) as err:
        sys.stderr.write(f"pycodex sandbox (landlock): {err}; the command was not run\n")
        return SETUP_FAILED_EXIT_CODE
    return _supervise(args[2:])


def apply_plan(plan: LandlockPlan) -> None:
    """Every restriction, in the order that lets each one protect the next."""
    abi, reason = landlock.landlock_abi()
    if abi == 0:
        raise OSError(errno.ENOSYS, f"Landlock unavailable: {reason}")
    # Mounts first: Landlock forbids mounting once applied, which also pins them in place.
    landlock.build_mount_view(plan.writable, plan.protected, plan.private_tmp)
    landlock.drop_capabilities()
    if seccomp.supported():
        seccomp.install(plan.network)
    writable = (*plan.writable, landlock.SCRATCH_DIR) if plan.private_tmp else plan.writable
    landlock.restrict_filesystem(abi, writable)


def _supervise(command: list[str]) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    # If pycodex dies, SIGTERM reaches us and is passed on; cleanup then follows as usual.
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    pid = os.fork()
    if pid == 0:
        _exec_command(command)
    # The terminal's job-control signals are for the command, which shares our process group.
    for signum in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP):
        signal.signal(signum, signal.SIG_IGN)

    def forward(signum: int, _frame: FrameType | None) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    status = _wait_for(pid)
    _kill_descendants()
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _exec_command(command: list[str]) -> None:
    try:
        os.execvp(command[0], command)
    except OSError as err:
        sys.stderr.write(f"{command[0]}: {err.strerror}\n")
        missing = err.errno == errno.ENOENT
        os._exit(_COMMAND_NOT_FOUND_EXIT_CODE if missing else SETUP_FAILED_EXIT_CODE)


def _wait_for(pid: int) -> int:
    """Reap children (orphans included) until `pid` exits; its wait status."""
    while True:
        try:
            reaped, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 0
        if reaped == pid:
            return status


def _kill_descendants() -> None:
    """SIGKILL whatever the command left running, until no child of ours remains."""
    while True:
        for child in _children():
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _children() -> list[int]:
    pids: list[int] = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children", encoding="ascii") as handle:
                pids += [int(pid) for pid in handle.read().split()]
        except OSError:
            continue
    return pids


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
