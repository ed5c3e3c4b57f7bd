"""Security battery: escape attempts run through the real spawn path, in both confining modes.

Every attempt is a real command run by `run_command` under a `SandboxPolicy`, once per mechanism
that can run on this machine (bubblewrap, Landlock) and once per mode (read-only,
workspace-write). Each escape must fail inside the sandbox (non-zero exit) and leave the host
unchanged: the files outside the writable roots, the protected `.git`/`.codex` trees, the
test's own loopback listeners and processes. The legitimate-work tests check that the same
sandbox still lets a command do its job.

Nothing leaves 127.0.0.1: the listeners are started here, on loopback, on ephemeral ports.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import socket
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pycodex.execution.process import CommandResult, run_command
from pycodex.execution.sandbox import MECHANISM_OVERRIDE_ENV, sandbox_status
from pycodex.protocol.policies import SandboxMode, SandboxPolicy

CONFINING_MODES = (SandboxMode.READ_ONLY, SandboxMode.WORKSPACE_WRITE)
PY = sys.executable


@pytest.fixture(params=["bwrap", "landlock"])
def mechanism(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    name: str = request.param
    monkeypatch.setenv(MECHANISM_OVERRIDE_ENV, name)
    status = sandbox_status()
    if status.mechanism != name:
        pytest.skip(f"{name} cannot run on this machine: {status.detail}")
    return name


@dataclass
class Scene:
    """A workspace with protected metadata, an outside directory and a secret, on the host."""

    root: Path
    workspace: Path
    outside: Path
    secret: str

    @property
    def target(self) -> Path:
        return self.outside / "target.txt"

    def policy(self, mode: SandboxMode, *, network: bool = False) -> SandboxPolicy:
        # /tmp and $TMPDIR are excluded because pytest's tmp_path lives under /tmp: the
        # "outside" directory must really be outside every writable root. `linked` is an extra
        # root (as with --add-dir) whose `.git` is a pointer file.
        return SandboxPolicy(
            mode=mode,
            writable_roots=(self.workspace / "linked",),
            network_access=network,
            exclude_tmpdir_env_var=True,
            exclude_slash_tmp=True,
        )

    def snapshot(self) -> dict[str, tuple[int, bytes]]:
        """Mode and content (or link target) of everything the sandbox must not change."""
        state: dict[str, tuple[int, bytes]] = {}
        for base in (
            self.outside,
            self.workspace / ".git",
            self.workspace / ".codex",
            self.workspace / "gitstore",
        ):
            for path in [base, *sorted(base.rglob("*"))]:
                info = path.lstat()
                if stat.S_ISLNK(info.st_mode):
                    data = os.readlink(path).encode()
                elif stat.S_ISREG(info.st_mode):
                    data = hashlib.sha256(path.read_bytes()).digest()
                else:
                    data = b""
                state[str(path)] = (info.st_mode, data)
        return state


@pytest.fixture
def scene(tmp_path: Path) -> Scene:
    workspace = tmp_path / "ws"
    outside = tmp_path / "outside"
    (outside / "bin").mkdir(parents=True)
    (outside / "target.txt").write_text("original\n")
    secret = f"secret-{uuid.uuid4().hex}"
    (outside / "secret.txt").write_text(secret)
    tool = outside / "bin" / "pycodex-battery-tool"
    tool.write_text("#!/bin/sh\necho original-tool\n")
    tool.chmod(0o755)
    workspace.mkdir()
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    (workspace / ".git" / "hooks" / "pre-commit.sample").write_text("#!/bin/sh\n")
    (workspace / ".codex").mkdir()
    (workspace / ".codex" / "config.toml").write_text('model = "original"\n')
    # A second repository inside the workspace whose `.git` is a pointer file (as in worktrees).
    (workspace / "gitstore").mkdir()
    (workspace / "gitstore" / "config").write_text("[core]\n")
    (workspace / "linked").mkdir()
    (workspace / "linked" / ".git").write_text("gitdir: ../gitstore\n")
    (workspace / "planted-link").symlink_to(outside / "target.txt")
    return Scene(tmp_path, workspace, outside, secret)


async def run_in(
    scene: Scene, command: str, policy: SandboxPolicy, *, cwd: Path | None = None
) -> CommandResult:
    env = dict(os.environ)
    env["PATH"] = f"{scene.outside / 'bin'}:{env.get('PATH', '')}"
    env.update(OUT=str(scene.outside), WS=str(scene.workspace), PY=PY)
    return await run_command(
        ["bash", "-c", command],
        cwd=cwd or scene.workspace,
        env=env,
        sandbox=policy,
        timeout_ms=20_000,
    )


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


class Listener:
    """Loopback TCP and UDP sockets; after a command ran, anything that reached them is known."""

    def __init__(self) -> None:
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.tcp.setblocking(False)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.setblocking(False)

    @property
    def tcp_port(self) -> int:
        return int(self.tcp.getsockname()[1])

    @property
    def udp_port(self) -> int:
        return int(self.udp.getsockname()[1])

    def received(self) -> bytes:
        """Loopback delivery completes within connect()/sendto(), so no waiting is needed."""
        data = b""
        try:
            connection, _ = self.tcp.accept()
        except BlockingIOError:
            pass
        else:
            with connection:
                connection.settimeout(5)
                data += b"tcp-connected:" + connection.recv(4096)
        try:
            data += b"udp:" + self.udp.recv(4096)
        except BlockingIOError:
            pass
        return data

    def close(self) -> None:
        self.tcp.close()
        self.udp.close()


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
    if kind == "tcp" or mechanism == "landlock":
        assert result.exit_code != 0, result.aggregated_output
    # else: a datagram sent into bwrap's empty network namespace "succeeds" and is lost; what
    # matters is that it never reaches the host.
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


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(marker.encode()):
            found.append(int(entry))
    return found


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
        await _wait_exited(_processes_with(marker), timeout_s=5.0)
    finally:
        survivors = _processes_with(marker)
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
        assert _process_state(victim.pid) != "Z"
    finally:
        victim.kill()
        await victim.wait()


def _process_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


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
