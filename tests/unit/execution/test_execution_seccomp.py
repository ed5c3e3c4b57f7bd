"""The seccomp filter, installed for real in a child process that then tries what it denies.

Each probe runs in a fresh Python process (the filter cannot be removed once installed), which
installs the filter with `seccomp.install` and reports, one line per attempt, `ok` or the errno
name. The same program is what bwrap loads with `--seccomp`; the battery checks it there.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pycodex.execution import seccomp

pytestmark = pytest.mark.skipif(
    not seccomp.supported(), reason="no seccomp filter for this architecture"
)

# The tracing attempts aim at a `sleep` the probe started itself, never at pytest: were the
# filter to let ptrace through, the stopped process must not be the test run.
PROBE = r"""
import ctypes, errno, json, os, socket, subprocess, sys
from pycodex.execution import seccomp
victim = subprocess.Popen(["sleep", "60"])
seccomp.install(network=sys.argv[1] == "on")
libc = ctypes.CDLL(None, use_errno=True)
results = {}

def attempt(name, action):
    try:
        action()
        results[name] = "ok"
    except OSError as error:
        results[name] = errno.errorcode.get(error.errno, str(error.errno))

def syscall_result(value):
    if value < 0:
        raise OSError(ctypes.get_errno(), "")

attempt("unix", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close())
attempt("inet", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close())
attempt("vsock", lambda: socket.socket(40, socket.SOCK_STREAM).close())
attempt("socketpair", lambda: [s.close() for s in socket.socketpair()])
attempt("ptrace", lambda: syscall_result(libc.ptrace(16, victim.pid, None, None)))
iov = (ctypes.c_char * 8)()
attempt("process_vm_readv", lambda: syscall_result(
    libc.process_vm_readv(victim.pid, ctypes.byref(iov), 0, ctypes.byref(iov), 0, 0)))
attempt("io_uring_setup", lambda: syscall_result(libc.syscall(425, 1, ctypes.byref(iov))))
attempt("plain work", lambda: os.close(os.open(os.devnull, os.O_RDONLY)))
victim.kill()
print(json.dumps(results))
"""


def probe(network: str) -> dict[str, str]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, network],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, str] = json.loads(completed.stdout)
    return result


def test_network_off_denies_every_socket_but_pairs_and_all_tracing() -> None:
    assert probe("off") == {
        "unix": "EPERM",
        "inet": "EPERM",
        "vsock": "EPERM",
        "socketpair": "ok",
        "ptrace": "EPERM",
        "process_vm_readv": "EPERM",
        "io_uring_setup": "EPERM",
        "plain work": "ok",
    }


def test_network_on_allows_sockets_but_still_denies_tracing() -> None:
    results = probe("on")
    assert results == {
        "unix": "ok",
        "inet": "ok",
        "vsock": "EPERM",
        "socketpair": "ok",
        "ptrace": "EPERM",
        "process_vm_readv": "EPERM",
        "io_uring_setup": "EPERM",
        "plain work": "ok",
    }
