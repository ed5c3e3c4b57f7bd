"""Restrictions a process applies to itself: mounts, Landlock, no capabilities.

The fallback sandbox when bubblewrap cannot run. Everything here acts on the calling process and
is inherited, irreversibly, by everything it executes; so it runs only in the short-lived
`landlock_exec` wrapper between fork and exec of the confined command, never in pycodex itself.
Standard library only (ctypes for the system calls), so the wrapper starts fast.

Landlock ABI facts used (linux/landlock.h): the three system calls have the same numbers on every
architecture; rights handled by a ruleset but granted by no rule are denied; a rule grants its
rights to the whole tree beneath a directory, so rules can only add, never carve out.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
from collections.abc import Iterable, Sequence

_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_TRUNCATE = 1 << 14  # ABI 3; `> file` opens with O_TRUNC and needs it
# ABI 6 scopes: no connecting to abstract Unix sockets created outside the sandbox, no signals
# to processes outside it.
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
_SCOPE_SIGNAL = 1 << 1
_SCOPES_ABI = 6

_READ_ONLY = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
# Device files every program expects to open for writing; rights on a file rule may only be
# file rights.
_WRITABLE_DEVICES = (
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
)

_PR_SET_NO_NEW_PRIVS = 38
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_MS_RDONLY = 1
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_SYS_MOUNT_SETATTR = 442  # same number on every architecture
_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 1


class RestrictionError(OSError):
    """A restriction could not be applied; the command must not run."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise RestrictionError(code, f"{what}: {os.strerror(code)}")
    return result


def landlock_abi() -> tuple[int, str]:
    """The kernel's Landlock ABI version (0 when unavailable) and, if 0, why."""
    version = int(_libc().syscall(_SYS_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION))
    if version >= 1:
        return version, ""
    code = ctypes.get_errno()
    reason = {
        errno.ENOSYS: "this kernel was built without Landlock",
        errno.EOPNOTSUPP: "Landlock is disabled at boot (add it to the lsm= kernel parameter)",
    }.get(code, os.strerror(code))
    return 0, reason


def _all_fs_rights(abi: int) -> int:
    # ABI 1 defines bits 0-12; ABI 2 adds REFER (13), ABI 3 TRUNCATE (14). IOCTL_DEV (ABI 5) is
    # left unhandled so terminal ioctls on a PTY opened later keep working.
    last_bit = 12 if abi == 1 else 13 if abi == 2 else 14
    return (1 << (last_bit + 1)) - 1


def restrict_filesystem(abi: int, writable: Iterable[str]) -> None:
    """Allow reading everywhere and writing only beneath `writable`, for good (Landlock)."""
    handled = _all_fs_rights(abi)
    scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if abi >= _SCOPES_ABI else 0
    attr = _RulesetAttr(handled_access_fs=handled, scoped=scoped)
    ruleset = _check(
        _libc().syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0),
        "landlock_create_ruleset",
    )
    try:
        _allow(ruleset, "/", _READ_ONLY)
        file_rights = _FS_READ_FILE | _FS_WRITE_FILE | (_FS_TRUNCATE if abi >= 3 else 0)
        for device in _WRITABLE_DEVICES:
            _allow(ruleset, device, file_rights, missing_ok=True)
        _allow(ruleset, "/dev/pts", file_rights | _FS_READ_DIR, missing_ok=True)
        for root in writable:
            _allow(ruleset, root, handled)
        _check(_libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
        _check(_libc().syscall(_SYS_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _allow(ruleset: int, path: str, rights: int, *, missing_ok: bool = False) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        if missing_ok:
            return
        raise
    try:
        rule = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        _check(
            _libc().syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0),
            f"landlock_add_rule({path})",
        )
    finally:
        os.close(fd)


def drop_capabilities() -> None:
    """Give up every capability for this process and whatever it executes.

    Matters for root: Landlock does not take away capabilities, and uid 0 regains all of them on
    execve unless the bounding set is empty. Unprivileged callers have nothing to drop.
    """
    if os.geteuid() != 0:
        return
    cap = 0
    # The kernel answers EINVAL for the first capability number beyond the last it knows.
    while _libc().prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    if ctypes.get_errno() != errno.EINVAL:
        _check(-1, f"prctl(PR_CAPBSET_DROP, {cap})")
    _libc().prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)


def build_mount_view(writable: Sequence[str], protected: Sequence[str], private_tmp: bool) -> None:
    """Give this process a private view of the filesystem: read-only except `writable`.

    Landlock alone leaves gaps: it does not govern chmod/chown or timestamps, and its rules can
    only add rights, so `.git` inside a writable root could not be carved out. Mount flags close
    both, in a private mount namespace (a user namespace mapping our own ids supplies the right
    to mount when we are not root); Landlock, applied afterwards, forbids undoing them.
    """
    cwd = os.getcwd()
    uid, gid = os.geteuid(), os.getegid()
    flags = _CLONE_NEWNS if uid == 0 else _CLONE_NEWNS | _CLONE_NEWUSER
    _check(_libc().unshare(flags), "unshare(mount namespace)")
    if uid != 0:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    # Private first: otherwise every mount below would propagate back to the host.
    _mount(None, "/", _MS_REC | _MS_PRIVATE)
    for root in writable:
        _mount(root, root, _MS_BIND | _MS_REC)  # its own mount, so its flags can differ
    _set_read_only("/", True)
    for root in writable:
        _set_read_only(root, False)
    for path in protected:
        _mount(path, path, _MS_BIND | _MS_REC)
        _set_read_only(path, True)
    if private_tmp:
        _mount_private_tmp()
    # Our working directory still points into the mount now covered by the new ones; going
    # there again by path puts it on top, where the writable binds are.
    os.chdir(cwd)


SCRATCH_DIR = "/dev/shm"


def _mount_private_tmp() -> None:
    """A fresh tmpfs at /dev/shm for scratch space; /tmp itself stays readable (read-only)."""
    result = _libc().mount(
        b"tmpfs", SCRATCH_DIR.encode(), b"tmpfs", ctypes.c_ulong(0), b"mode=1777"
    )
    _check(result, f"mount(tmpfs on {SCRATCH_DIR})")


class _MountAttr(ctypes.Structure):
    _fields_ = (
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    )


def _set_read_only(path: str, read_only: bool) -> None:
    """Set or clear the read-only flag on the mount at `path` and every mount beneath it."""
    attr = _MountAttr(
        attr_set=_MOUNT_ATTR_RDONLY if read_only else 0,
        attr_clr=0 if read_only else _MOUNT_ATTR_RDONLY,
    )
    result = _libc().syscall(
        _SYS_MOUNT_SETATTR,
        _AT_FDCWD,
        os.fsencode(path),
        _AT_RECURSIVE,
        ctypes.byref(attr),
        ctypes.sizeof(attr),
    )
    _check(result, f"mount_setattr({path})")


def _mount(source: str | None, target: str, flags: int) -> None:
    encoded = None if source is None else os.fsencode(source)
    result = _libc().mount(encoded, os.fsencode(target), None, ctypes.c_ulong(flags), None)
    _check(result, f"mount({target})")


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)
