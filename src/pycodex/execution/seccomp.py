"""The seccomp filter every confined command runs under, as a classic BPF program.

Both mechanisms use the same program: bubblewrap loads it from a descriptor (`--seccomp FD`)
right before it executes the command, and the Landlock wrapper installs it on itself
(`install`) before it forks the command. Denied calls fail with EPERM, so programs see an
ordinary "operation not permitted" instead of being killed.

Always denied:

- `ptrace`, `process_vm_readv`, `process_vm_writev`, `pidfd_getfd`: a confined process must not
  take hold of another one. Stopping bwrap's PID 1 this way used to wedge the sandbox forever.
- `io_uring_setup`, `io_uring_enter`, `io_uring_register`: io_uring performs socket and file
  operations without the system calls this filter inspects.
- calls made through another ABI (32-bit x86, x32), whose numbers this filter does not know.
- `socket(AF_VSOCK, ...)`: virtual-machine sockets reach services of the host.

With the network off, also `socket(2)` for every address family, Unix included: a socket from
`socket(2)` is the only way to reach a listener outside by path (a path socket) or by name (an
abstract socket), and the seccomp filter cannot see the address `connect(2)` is given.
`socketpair(2)` stays allowed for `AF_UNIX`: such a pair is connected to nothing but itself, and
event loops, language runtimes and build tools use it to talk to their own children.

The filter is built from the table of system call numbers below; on other architectures
`supported()` is False and no filter is installed (the sandbox status says what is missing).
"""

from __future__ import annotations

import errno
import functools
import os

from pycodex._records import dataclass


@dataclass(frozen=True, slots=True)
class _Arch:
    audit_arch: int
    ptrace: int
    process_vm_readv: int
    process_vm_writev: int
    socket: int
    socketpair: int
    rejects_x32: bool


# Numbers from the kernel's unistd tables; io_uring (425-427) and pidfd_getfd (438) are the same
# on every architecture.
_ARCHES = {
    "x86_64": _Arch(0xC000003E, 101, 310, 311, 41, 53, rejects_x32=True),
    "aarch64": _Arch(0xC00000B7, 117, 270, 271, 198, 199, rejects_x32=False),
}
_IO_URING = (425, 426, 427)
_PIDFD_GETFD = 438
_AF_UNIX = 1
_AF_VSOCK = 40
_X32_SYSCALL_BIT = 0x40000000

# BPF opcodes: load a 32-bit word at an absolute offset of `struct seccomp_data`, compare and
# jump, return.
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_OFFSET_NR = 0
_OFFSET_ARCH = 4
_OFFSET_ARG0 = 16  # the low half of args[0] on these little-endian machines
_ALLOW = 0x7FFF0000
_DENY = 0x00050000 | errno.EPERM  # SECCOMP_RET_ERRNO | EPERM

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


def supported() -> bool:
    """Whether a filter can be built for this machine's architecture."""
    return os.uname().machine in _ARCHES


@functools.cache
def program(network: bool) -> bytes:
    """The filter as bwrap's `--seccomp` expects it: packed `struct sock_filter` entries."""
    import struct  # loaded when a command is first confined, not at start-up

    arch = _ARCHES[os.uname().machine]
    return b"".join(struct.pack("HBBI", *instruction) for instruction in _assemble(arch, network))


# An instruction whose jump targets are label names ("deny", "allow", ...) or None for "next".
_Symbolic = tuple[int, str | None, str | None, int]


def _assemble(arch: _Arch, network: bool) -> list[tuple[int, int, int, int]]:
    """Resolve label names into the relative jump offsets BPF uses."""
    code, labels = _symbolic(arch, network)
    resolved = []
    for index, (opcode, if_true, if_false, constant) in enumerate(code):
        jumps = [
            0 if target is None else labels[target] - index - 1 for target in (if_true, if_false)
        ]
        resolved.append((opcode, jumps[0], jumps[1], constant))
    return resolved


def _symbolic(arch: _Arch, network: bool) -> tuple[list[_Symbolic], dict[str, int]]:
    denied = (arch.ptrace, arch.process_vm_readv, arch.process_vm_writev, _PIDFD_GETFD, *_IO_URING)
    code: list[_Symbolic] = [
        (_LD_W_ABS, None, None, _OFFSET_ARCH),
        (_JEQ_K, None, "deny", arch.audit_arch),
        (_LD_W_ABS, None, None, _OFFSET_NR),
    ]
    if arch.rejects_x32:
        code.append((_JGE_K, "deny", None, _X32_SYSCALL_BIT))
    code += [(_JEQ_K, "deny", None, number) for number in denied]
    if network:
        code.append((_JEQ_K, "family", None, arch.socket))
        code.append((_RET_K, None, None, _ALLOW))
        # socket(2): every family but AF_VSOCK.
        labels = {"family": len(code)}
        code += [(_LD_W_ABS, None, None, _OFFSET_ARG0), (_JEQ_K, "deny", "allow", _AF_VSOCK)]
    else:
        code.append((_JEQ_K, "deny", None, arch.socket))
        code.append((_JEQ_K, "family", None, arch.socketpair))
        code.append((_RET_K, None, None, _ALLOW))
        # socketpair(2): AF_UNIX only.
        labels = {"family": len(code)}
        code += [(_LD_W_ABS, None, None, _OFFSET_ARG0), (_JEQ_K, "allow", "deny", _AF_UNIX)]
    labels["deny"] = len(code)
    code.append((_RET_K, None, None, _DENY))
    labels["allow"] = len(code)
    code.append((_RET_K, None, None, _ALLOW))
    return code, labels


def install(network: bool) -> None:
    """Install the filter on this process, for good, and on everything it will execute."""
    import ctypes  # only the Landlock wrapper installs the filter itself

    class SockFprog(ctypes.Structure):
        _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))

    code = program(network)
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    for name, option, args in (
        ("PR_SET_NO_NEW_PRIVS", _PR_SET_NO_NEW_PRIVS, (1, 0)),
        ("PR_SET_SECCOMP", _PR_SET_SECCOMP, (_SECCOMP_MODE_FILTER, ctypes.addressof(fprog))),
    ):
        # Unsigned longs throughout: ctypes would pass plain ints as 32-bit values.
        if libc.prctl(option, *(ctypes.c_ulong(arg) for arg in (*args, 0, 0))) != 0:
            code_number = ctypes.get_errno()
            raise OSError(code_number, f"prctl({name}): {os.strerror(code_number)}")


def program_descriptor(network: bool) -> int:
    """A descriptor to read the program from (bwrap's `--seccomp FD`); the caller closes it.

    A pipe holds it: the program is a few hundred bytes, far below a pipe's capacity, and each
    command needs a descriptor of its own because bwrap reads it to the end.
    """
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    try:
        os.write(write_end, program(network))
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    return read_end
