"""Security battery: escape attempts run through the real spawn path, in both confining modes.

Every attempt is a real command run by `run_command` under a `SandboxPolicy`, once per mechanism
that can run on this machine (bubblewrap, Landlock) and once per mode (read-only,
workspace-write). Each escape must fail inside the sandbox (non-zero exit) and leave the host
unchanged: the files outside the writable roots, the protected `.git`/`.codex`/`.agents`/`.aws`
trees, the test's own loopback and Unix-socket listeners and processes. apply_patch attempts
run the real tool with the same policies, and a sandboxed command races it with symlinks. The
legitimate-work tests check that the same sandbox still lets a command do its job.

Nothing leaves 127.0.0.1: the listeners are started here, on loopback, on ephemeral ports, or
as Unix sockets in the test's own directory.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_scene import (
    PY,
    Listener,
    Scene,
    UnixListeners,
    build_scene,
    process_state,
    processes_with,
    run_in,
)

from pycodex.execution.sandbox import MECHANISM_OVERRIDE_ENV, sandbox_status
from pycodex.protocol.policies import SandboxMode, SandboxPolicy

CONFINING_MODES = (SandboxMode.READ_ONLY, SandboxMode.WORKSPACE_WRITE)


@pytest.fixture(params=["bwrap", "landlock"])
def mechanism(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    name: str = request.param
    monkeypatch.setenv(MECHANISM_OVERRIDE_ENV, name)
    status = sandbox_status()
    if status.mechanism != name:
        pytest.skip(f"{name} cannot run on this machine: {status.detail}")
    return name


@pytest.fixture
def scene(tmp_path: Path) -> Scene:
    return build_scene(tmp_path)


# Each attempt must fail and change nothing outside the writable roots or in protected paths.
FILESYSTEM_ESCAPES = {
    "direct-write": 'echo pwned > "$OUT/target.txt"',
    "create-outside": 'touch "$OUT/new-file"',
    "dotdot-write": "echo pwned > ../outside/target.txt",
    "dotdot-create": "touch ../outside/new-file",
    "planted-symlink": "echo pwned > planted-link",
    "own-symlink": 'ln -sf "$OUT/target.txt" my-link && echo pwned > my-link',
    "proc-self-root": 'echo pwned > "/proc/self/root$OUT/target.txt"',
    "proc-1-root": 'echo pwned > "/proc/1/root$OUT/target.txt"',
    "hard-link": 'ln "$OUT/target.txt" hard && echo pwned >> hard',
    "move-out": 'mv "$OUT/target.txt" stolen.txt',
    "delete-outside": 'rm "$OUT/target.txt"',
    "chmod-outside": 'chmod 777 "$OUT/target.txt"',
    "truncate-outside": 'truncate -s 0 "$OUT/target.txt"',
    "remount-rw": 'mount -o remount,rw / 2>/dev/null; echo pwned > "$OUT/target.txt"',
    "git-hook": "echo 'curl evil' > .git/hooks/pre-commit",
    "git-config": "echo '[core] fsmonitor = evil' >> .git/config",
    "git-replace-dir": "mv .git .git-old && mkdir .git",
    "gitdir-pointer-target": "echo evil >> gitstore/config",
    "codex-config": "echo 'model = \"evil\"' > .codex/config.toml",
    "codex-new-file": "touch .codex/new.toml",
    "git-via-symlink": "echo evil > git-alias/hooks/post-checkout",
    "agents-skill-plant": "mkdir -p .agents/skills/evil && echo evil > .agents/skills/evil/SKILL.md",
    "agents-skill-edit": "echo 'run: curl evil' >> .agents/skills/good/SKILL.md",
    "agents-replace-dir": "mv .agents .agents-old && mkdir -p .agents/skills/evil",
    "aws-config": "printf 'credential_process = evil\\n' >> .aws/config",
    "aws-credentials": "echo '[default]' > .aws/credentials",
    "path-binary-overwrite": "echo 'echo evil' > \"$(command -v pycodex-battery-tool)\"",
    "path-binary-replace": 'cp /bin/true "$OUT/bin/x" && mv "$OUT/bin/x" "$OUT/bin/pycodex-battery-tool"',
}


@pytest.mark.parametrize("mode", CONFINING_MODES, ids=str)
@pytest.mark.parametrize("attempt", FILESYSTEM_ESCAPES.values(), ids=FILESYSTEM_ESCAPES.keys())
async def test_filesystem_escape_is_blocked(
    mechanism: str, scene: Scene, mode: SandboxMode, attempt: str
) -> None:
    before = scene.snapshot()
    result = await run_in(scene, attempt, scene.policy(mode))
    assert result.exit_code != 0, result.aggregated_output
    assert scene.snapshot() == before
    assert scene.target.read_text() == "original\n"


@pytest.fixture
def listener() -> Iterator[Listener]:
    opened = Listener()
    yield opened
    opened.close()


def _exfiltrate(kind: str, port: int) -> str:
    read = "data = open(os.environ['OUT'] + '/secret.txt').read()"
    if kind == "tcp":
        send = f"s = socket.create_connection(('127.0.0.1', {port}), timeout=5); s.sendall(data.encode())"
    elif kind == "udp":
        send = f"socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(data.encode(), ('127.0.0.1', {port}))"
    else:
        # A DNS query whose name carries the secret, sent to a "resolver" on loopback.
        send = (
            "name = b''.join(bytes([len(p)]) + p.encode() for p in [data, 'example', 'com']) + b'\\0'; "
            "query = b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00' + name + b'\\x00\\x01\\x00\\x01'; "
            f"socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(query, ('127.0.0.1', {port}))"
        )
    return f'"$PY" -c "import os, socket; {read}; {send}"'


@pytest.mark.parametrize("mode", CONFINING_MODES, ids=str)
@pytest.mark.parametrize("kind", ["tcp", "udp", "dns"])
async def test_secret_cannot_leave_over_the_network(
    mechanism: str, scene: Scene, listener: Listener, mode: SandboxMode, kind: str
) -> None:
    port = listener.tcp_port if kind == "tcp" else listener.udp_port
    result = await run_in(scene, _exfiltrate(kind, port), scene.policy(mode))
    # The seccomp filter refuses socket(2) itself, under both mechanisms.
    assert result.exit_code != 0, result.aggregated_output
    assert "Operation not permitted" in result.aggregated_output
    assert listener.received() == b""


@pytest.mark.parametrize("kind", ["tcp", "udp"])
async def test_network_access_true_really_allows_the_network(
    mechanism: str, scene: Scene, listener: Listener, kind: str
) -> None:
    # The control for the test above: the same command succeeds when the policy allows it.
    port = listener.tcp_port if kind == "tcp" else listener.udp_port
    policy = scene.policy(SandboxMode.WORKSPACE_WRITE, network=True)
    result = await run_in(scene, _exfiltrate(kind, port), policy)
    assert result.exit_code == 0, result.aggregated_output
    assert scene.secret.encode() in listener.received()


@pytest.fixture
def unix_listeners(scene: Scene) -> Iterator[UnixListeners]:
    opened = UnixListeners(scene.outside)
    yield opened
    opened.close()


def _send_over_unix(kind: str, address: str) -> str:
    """A client that reads the secret (outside the workspace) and sends it to `address`.

    An abstract name starts with NUL, which cannot travel in argv: it is passed as `@name`.
    """
    read = "data = open(os.environ['OUT'] + '/secret.txt', 'rb').read()"
    if kind == "dgram":
        send = "socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(data, address)"
    else:
        send = "s = socket.socket(socket.AF_UNIX); s.connect(address); s.sendall(data)"
    unescape = "address = chr(0) + address[1:] if address.startswith('@') else address"
    script = f"import os, socket, sys; address = sys.argv[1]; {unescape}; {read}; {send}"
    shown = "@" + address[1:] if address.startswith("\0") else address
    return f'"$PY" -c "{script}" \'{shown}\''


UNIX_KINDS = ("path", "dgram", "abstract")


@pytest.mark.parametrize("mode", CONFINING_MODES, ids=str)
@pytest.mark.parametrize("kind", UNIX_KINDS)
async def test_host_unix_sockets_are_unreachable(
    mechanism: str, scene: Scene, unix_listeners: UnixListeners, mode: SandboxMode, kind: str
) -> None:
    command = _send_over_unix(kind, unix_listeners.address(kind))
    result = await run_in(scene, command, scene.policy(mode))
    assert result.exit_code != 0, result.aggregated_output
    assert "Operation not permitted" in result.aggregated_output
    assert unix_listeners.received() == b""


@pytest.mark.parametrize("kind", UNIX_KINDS)
async def test_network_access_true_reaches_host_unix_sockets(
    mechanism: str, scene: Scene, unix_listeners: UnixListeners, kind: str
) -> None:
    # The control for the test above: with the network allowed, the same client gets through
    # (Unix sockets are part of what `network_access = true` grants, as upstream) - except
    # abstract ones under Landlock, whose scope keeps them out (the test below).
    if kind == "abstract" and mechanism == "landlock":
        pytest.skip("Landlock scopes abstract sockets whatever the network policy")
    policy = scene.policy(SandboxMode.WORKSPACE_WRITE, network=True)
    result = await run_in(scene, _send_over_unix(kind, unix_listeners.address(kind)), policy)
    assert result.exit_code == 0, result.aggregated_output
    assert scene.secret.encode() in unix_listeners.received()


async def test_landlock_keeps_abstract_sockets_out_of_reach_even_with_network(
    mechanism: str, scene: Scene, unix_listeners: UnixListeners
) -> None:
    if mechanism != "landlock":
        pytest.skip("bubblewrap shares the host network namespace when the network is on")
    policy = scene.policy(SandboxMode.WORKSPACE_WRITE, network=True)
    command = _send_over_unix("abstract", unix_listeners.address("abstract"))
    result = await run_in(scene, command, policy)
    assert result.exit_code != 0, result.aggregated_output
    assert "Operation not permitted" in result.aggregated_output
    assert unix_listeners.received() == b""


# Each attaches to a process and reports success; all must be refused, promptly. Attaching to
# bwrap's PID 1 used to stop it and leave the sandbox waiting forever.
PTRACE_PROBE = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
target = int(sys.argv[1]) if sys.argv[1] != "parent" else os.getppid()
if sys.argv[2] == "attach":
    result = libc.ptrace(16, target, None, None)
else:
    buffer = (ctypes.c_char * 64)()
    iov = (ctypes.c_void_p * 2)(ctypes.addressof(buffer), 64)
    result = libc.process_vm_readv(target, iov, 1, iov, 1, 0)
print(sys.argv[2], target, "->", result, os.strerror(ctypes.get_errno()))
sys.exit(0 if result >= 0 else 3)
"""
PTRACE_ATTEMPTS = {
    "attach-pid-1": ("1", "attach"),
    "attach-parent": ("parent", "attach"),
    "attach-outside": ("{victim}", "attach"),
    "read-memory-parent": ("parent", "read"),
    "read-memory-outside": ("{victim}", "read"),
}


@pytest.mark.parametrize("mode", CONFINING_MODES, ids=str)
@pytest.mark.parametrize("attempt", PTRACE_ATTEMPTS.values(), ids=PTRACE_ATTEMPTS.keys())
async def test_ptrace_is_refused_and_the_sandbox_returns(
    mechanism: str, scene: Scene, mode: SandboxMode, attempt: tuple[str, str]
) -> None:
    victim = await asyncio.create_subprocess_exec("sleep", "300")
    target, action = attempt
    probe = scene.root / "ptrace_probe.py"
    probe.write_text(PTRACE_PROBE)
    command = f'"$PY" {probe} {target.format(victim=victim.pid)} {action}'
    try:
        result = await run_in(scene, command, scene.policy(mode))
        assert not result.timed_out, result.aggregated_output
        assert result.exit_code == 3, result.aggregated_output
        assert process_state(victim.pid) == "S"  # neither stopped nor traced
    finally:
        victim.kill()
        await victim.wait()


def test_pycodex_sandbox_survives_a_ptrace_of_its_pid_1(mechanism: str, scene: Scene) -> None:
    probe = scene.root / "ptrace_probe.py"
    probe.write_text(PTRACE_PROBE)
    # Before the seccomp filter this never returned: PID 1 stopped, nobody reaped the command.
    completed = subprocess.run(
        [PY, "-m", "pycodex", "sandbox", "-C", str(scene.workspace), "--",
         PY, str(probe), "1", "attach"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert completed.returncode == 3, completed.stderr
    assert "Operation not permitted" in completed.stdout


SURVIVORS = {
    "setsid": "setsid bash -c 'exec -a {marker} sleep 300' < /dev/null > /dev/null 2>&1 &",
    "double-fork": "( ( exec -a {marker} sleep 300 < /dev/null > /dev/null 2>&1 & ) & )",
    "nohup": "nohup bash -c 'exec -a {marker} sleep 300' < /dev/null > /dev/null 2>&1 &",
}


@pytest.mark.parametrize("mode", CONFINING_MODES, ids=str)
@pytest.mark.parametrize("launch", SURVIVORS.values(), ids=SURVIVORS.keys())
async def test_no_process_outlives_the_sandboxed_command(
    mechanism: str, scene: Scene, mode: SandboxMode, launch: str
) -> None:
    marker = f"pycodex-survivor-{uuid.uuid4().hex}"
    # The command waits until its survivor exists, so the check below is not vacuous. The
    # anchored pattern matches the survivor (whose argv[0] is the marker), not this script.
    wait = f"until pgrep -f '^{marker}' > /dev/null; do :; done"
    result = await run_in(scene, f"{launch.format(marker=marker)}\n{wait}", scene.policy(mode))
    assert result.exit_code == 0, result.aggregated_output
    # bwrap reports the command's exit while the kernel may still be tearing down its PID
    # namespace, so a survivor may be seen dying: it must be gone shortly, without our help.
    try:
        await _wait_exited(processes_with(marker), timeout_s=5.0)
    finally:
        survivors = processes_with(marker)
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)
    assert survivors == []


async def _wait_exited(pids: list[int], timeout_s: float) -> None:
    """Wait on each process's pidfd, which becomes readable when the process terminates."""
    loop = asyncio.get_running_loop()
    fds: list[int] = []
    for pid in pids:
        try:
            fds.append(os.pidfd_open(pid))
        except ProcessLookupError:
            continue
    waits = []
    for fd in fds:
        done: asyncio.Future[None] = loop.create_future()
        loop.add_reader(fd, lambda f=done: f.done() or f.set_result(None))
        waits.append(done)
    try:
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(*waits)
    except TimeoutError:
        pass  # the caller reports whatever is still alive
    finally:
        for fd in fds:
            loop.remove_reader(fd)
            os.close(fd)


@pytest.mark.parametrize("mode", CONFINING_MODES, ids=str)
async def test_cannot_signal_a_process_outside(
    mechanism: str, scene: Scene, mode: SandboxMode
) -> None:
    victim = await asyncio.create_subprocess_exec("sleep", "300")
    try:
        result = await run_in(scene, f"kill -9 {victim.pid}", scene.policy(mode))
        assert result.exit_code != 0, result.aggregated_output
        # Alive, not a zombie waiting to be reaped (returncode alone would not tell).
        assert process_state(victim.pid) != "Z"
    finally:
        victim.kill()
        await victim.wait()


# apply_patch -------------------------------------------------------------------------------
# The patch tool writes from pycodex itself, outside any sandbox, so it must enforce the same
# layout: the same attempts through the real tool, under each mode's policy and `never`.

PATCH_ESCAPES = {
    "git-hook": ("*** Add File: .git/hooks/pre-commit", "+#!/bin/sh", "+curl evil"),
    "git-config": ("*** Update File: .git/config", "@@", " [core]", "+\tfsmonitor = evil"),
    "gitdir-target": ("*** Add File: gitstore/hooks/pre-commit", "+evil"),
    "gitdir-pointer": ("*** Delete File: linked/.git",),
    "codex-config": ("*** Update File: .codex/config.toml", '-model = "original"', "+model = 1"),
    "agents-skill-plant": ("*** Add File: .agents/skills/evil/SKILL.md", "+evil"),
    "aws-config": ("*** Add File: .aws/config", "+credential_process = evil"),
    "via-dotdot": ("*** Add File: linked/../.git/hooks/post-checkout", "+evil"),
    "via-symlink": ("*** Add File: git-alias/hooks/pre-push", "+evil"),
    "move-into-git": (
        "*** Update File: notes.txt",
        "*** Move to: .git/hooks/pre-commit",
        "@@",
        "-note",
        "+evil",
    ),
    "outside-dotdot": ("*** Add File: ../outside/new.txt", "+evil"),
    "outside-planted-symlink": ("*** Update File: planted-link", "-original", "+pwned"),
    "outside-absolute": ("*** Add File: {outside}/new.txt", "+evil"),
}


async def _patch_through_the_tool(scene: Scene, mode: SandboxMode, body: tuple[str, ...]) -> str:
    from pycodex.tools.base import ToolContext
    from pycodex.tools.builtin.apply_patch_tool import run_apply_patch

    text = "\n".join(("*** Begin Patch", *body, "*** End Patch")) + "\n"
    context = ToolContext(
        call_id="c", turn_id="t", cwd=scene.workspace, sandbox_policy=scene.policy(mode)
    )
    output = await run_apply_patch(context, text.format(outside=scene.outside))
    assert not output.success, output.text
    return output.text


@pytest.mark.parametrize("mode", CONFINING_MODES, ids=str)
@pytest.mark.parametrize("attempt", PATCH_ESCAPES.values(), ids=PATCH_ESCAPES.keys())
async def test_patch_escape_is_rejected(
    mechanism: str, scene: Scene, mode: SandboxMode, attempt: tuple[str, ...]
) -> None:
    before = scene.snapshot()
    text = await _patch_through_the_tool(scene, mode, attempt)
    assert "patch rejected: " in text
    assert "nobody can allow it" in text
    assert scene.snapshot() == before
    assert (scene.workspace / "notes.txt").read_text() == "note\n"


RACE_ATTEMPTS = 200


async def test_sandboxed_symlink_swapper_cannot_redirect_a_patch(
    mechanism: str, scene: Scene
) -> None:
    # A sandboxed command (as the model would start in the background) keeps exchanging a
    # workspace directory with a symlink to outside while patches are applied into it.
    from pycodex.apply_patch import PatchError, apply_patch_text
    from pycodex.execution.fdio import FdReader
    from pycodex.execution.spawn import spawn_piped
    from support import symlink_race

    base, outside = scene.workspace / "race", scene.outside / "race-target"
    symlink_race.prepare(base, outside)
    policy = scene.policy(SandboxMode.WORKSPACE_WRITE)
    swapper = await spawn_piped(
        [PY, "-c", symlink_race.SWAPPER, str(base)],
        cwd=scene.workspace, env=dict(os.environ), sandbox=policy, merge_stderr=True,
    )  # fmt: skip
    output = bytearray()
    ready = asyncio.Event()

    def collect(data: bytes) -> None:
        output.extend(data)
        if b"ready\n" in output:
            ready.set()

    reader = FdReader(swapper.output_fd, collect)
    written = 0
    try:
        await asyncio.wait_for(ready.wait(), timeout=30)
        for index in range(RACE_ATTEMPTS):
            try:
                apply_patch_text(symlink_race.add_file_patch(index), scene.workspace,
                                 [scene.workspace])  # fmt: skip
                written += 1
            except PatchError:
                pass  # refused at the check, or stopped by a symlink on the way
    finally:
        (base / "stop").touch()
        await swapper.process.wait()
        await reader.wait_eof(5.0)
        reader.stop()
        swapper.close()
    assert swapper.process.returncode == 0, output.decode()
    assert int(output.decode().split()[-1]) > 0  # it was swapping during the attempts
    assert symlink_race.files_under(outside) == []
    real = base / "swap" if (base / "dir").is_symlink() else base / "dir"
    assert len(symlink_race.files_under(real)) == written


# Legitimate work ---------------------------------------------------------------------------


async def test_workspace_write_allows_building_and_committing(mechanism: str, scene: Scene) -> None:
    command = (
        "set -e\n"
        "mkdir -p build && echo 'print(6 * 7)' > build/main.py\n"
        '"$PY" build/main.py > build/out.txt\n'
        "\"$PY\" -c \"import pathlib; pathlib.Path('report.txt').write_text('ok')\"\n"
        "mkdir project && cd project && git init -q && echo hi > a.txt && git add a.txt\n"
        "git -c user.name=t -c user.email=t@e commit -qm init && git log --oneline | wc -l\n"
    )
    result = await run_in(scene, command, scene.policy(SandboxMode.WORKSPACE_WRITE))
    assert result.exit_code == 0, result.aggregated_output
    assert (scene.workspace / "build" / "out.txt").read_text() == "42\n"
    assert (scene.workspace / "report.txt").read_text() == "ok"
    assert result.stdout.strip() == "1"


@pytest.mark.parametrize("mode", CONFINING_MODES, ids=str)
async def test_scratch_space_in_tmpdir_works(
    mechanism: str, scene: Scene, mode: SandboxMode
) -> None:
    name = f"pycodex-scratch-{uuid.uuid4().hex}"
    policy = SandboxPolicy(mode=mode)  # /tmp not excluded
    script = f'f="${{TMPDIR:-/tmp}}/{name}"; echo scratch > "$f" && cat "$f" && echo "$f"'
    result = await run_in(scene, script, policy)
    assert result.exit_code == 0, result.aggregated_output
    first, where = result.stdout.splitlines()
    assert first == "scratch"
    # workspace-write shares the host's temp dir; read-only gets a private one that vanishes.
    assert _take(Path(where)) == (mode is SandboxMode.WORKSPACE_WRITE)


def _take(path: Path) -> bool:
    """Whether `path` exists on the host; removes it."""
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


async def test_read_only_still_reads_host_tmp(mechanism: str, scene: Scene) -> None:
    probe = Path("/tmp") / f"pycodex-visible-{uuid.uuid4().hex}"
    probe.write_text("visible\n")
    try:
        result = await run_in(scene, f"cat {probe}", SandboxPolicy(mode=SandboxMode.READ_ONLY))
    finally:
        probe.unlink()
    assert result.stdout == "visible\n", result.aggregated_output


async def test_read_only_reads_but_does_not_write_the_workspace(
    mechanism: str, scene: Scene
) -> None:
    result = await run_in(
        scene, "cat .codex/config.toml && echo new > new.txt", scene.policy(SandboxMode.READ_ONLY)
    )
    assert result.stdout == 'model = "original"\n'
    assert result.exit_code != 0
    assert not (scene.workspace / "new.txt").exists()


IPC_WORK = """
import asyncio, multiprocessing, socket, subprocess
a, b = socket.socketpair()
a.sendall(b"pair")
assert b.recv(4) == b"pair"
asyncio.run(asyncio.sleep(0))  # the event loop's self-pipe is a socketpair
with multiprocessing.Pool(2) as pool:  # semaphores live in /dev/shm
    assert pool.map(abs, [-1, -2]) == [1, 2]
assert subprocess.run(["echo", "child"], capture_output=True).stdout == b"child\\n"
print("ipc-ok")
"""


@pytest.mark.parametrize("mode", CONFINING_MODES, ids=str)
async def test_programs_still_talk_to_their_own_children(
    mechanism: str, scene: Scene, mode: SandboxMode
) -> None:
    script = scene.root / "ipc_work.py"
    script.write_text(IPC_WORK)
    result = await run_in(scene, f'"$PY" {script}', scene.policy(mode))
    assert result.exit_code == 0, result.aggregated_output
    assert result.stdout == "ipc-ok\n"


async def test_patches_inside_the_workspace_still_work(mechanism: str, scene: Scene) -> None:
    from pycodex.tools.base import ToolContext
    from pycodex.tools.builtin.apply_patch_tool import run_apply_patch

    (scene.workspace / "real-docs").mkdir()
    (scene.workspace / "docs").symlink_to(scene.workspace / "real-docs")
    patch = (
        "*** Begin Patch\n*** Add File: src/app.py\n+print('hi')\n"
        "*** Add File: docs/guide.md\n+# Guide\n"
        "*** Update File: notes.txt\n*** Move to: archive/notes.txt\n@@\n-note\n+kept\n"
        "*** Add File: .gitignore\n+build/\n*** End Patch\n"
    )
    policy = scene.policy(SandboxMode.WORKSPACE_WRITE)
    context = ToolContext(call_id="c", turn_id="t", cwd=scene.workspace, sandbox_policy=policy)
    output = await run_apply_patch(context, patch)
    assert output.success, output.text
    assert (scene.workspace / "src" / "app.py").read_text() == "print('hi')\n"
    assert (scene.workspace / "real-docs" / "guide.md").read_text() == "# Guide\n"
    assert (scene.workspace / "archive" / "notes.txt").read_text() == "kept\n"
    assert not (scene.workspace / "notes.txt").exists()
