"""The stage of the sandbox battery: a workspace on the host and listeners outside it.

`build_scene` makes a workspace with protected metadata (`.git`, `.codex`, `.agents`, `.aws`, a
second repository whose `.git` is a `gitdir:` pointer), an outside directory with a secret, and a
planted symlink. `Listener` (TCP and UDP on loopback) and `UnixListeners` (a path stream socket,
a path datagram socket and an abstract socket) record whatever reaches them. Imported by module
name from the battery (pytest puts this directory on `sys.path`).
"""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from pycodex.execution.process import CommandResult, run_command
from pycodex.protocol.policies import SandboxMode, SandboxPolicy

PY = sys.executable
PROTECTED_TREES = (".git", ".codex", ".agents", ".aws", "gitstore")


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
            writable_roots=(self.workspace, self.workspace / "linked"),
            network_access=network,
            exclude_tmpdir_env_var=True,
            exclude_slash_tmp=True,
        )

    def snapshot(self) -> dict[str, tuple[int, bytes]]:
        """Mode and content (or link target) of everything the sandbox must not change."""
        state: dict[str, tuple[int, bytes]] = {}
        bases = [self.outside, *(self.workspace / name for name in PROTECTED_TREES)]
        for base in bases:
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


def build_scene(tmp_path: Path) -> Scene:
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
    (workspace / ".agents" / "skills" / "good").mkdir(parents=True)
    (workspace / ".agents" / "skills" / "good" / "SKILL.md").write_text("---\nname: good\n---\n")
    (workspace / ".aws").mkdir()
    (workspace / ".aws" / "config").write_text("[default]\nregion = eu-west-1\n")
    # A second repository inside the workspace whose `.git` is a pointer file (as in worktrees).
    (workspace / "gitstore" / "hooks").mkdir(parents=True)
    (workspace / "gitstore" / "config").write_text("[core]\n")
    (workspace / "linked").mkdir()
    (workspace / "linked" / ".git").write_text("gitdir: ../gitstore\n")
    (workspace / "planted-link").symlink_to(outside / "target.txt")
    (workspace / "git-alias").symlink_to(workspace / ".git", target_is_directory=True)
    (workspace / "notes.txt").write_text("note\n")
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
        return _accepted(self.tcp, b"tcp-connected:") + _datagram(self.udp, b"udp:")

    def close(self) -> None:
        self.tcp.close()
        self.udp.close()


class UnixListeners:
    """Unix-domain listeners of the host, outside every writable root.

    `stream` is a path socket (`<outside>/listen.sock`), `dgram` a path datagram socket, and
    `abstract` a stream socket in the abstract namespace (a name, no file).
    """

    def __init__(self, outside: Path) -> None:
        self.stream_path = str(outside / "listen.sock")
        self.dgram_path = str(outside / "dgram.sock")
        self.abstract_name = f"\0pycodex-battery-{uuid.uuid4().hex}"
        self.stream = _unix(socket.SOCK_STREAM, self.stream_path)
        self.dgram = _unix(socket.SOCK_DGRAM, self.dgram_path)
        self.abstract = _unix(socket.SOCK_STREAM, self.abstract_name)

    def address(self, kind: str) -> str:
        return {"path": self.stream_path, "dgram": self.dgram_path}.get(kind, self.abstract_name)

    def received(self) -> bytes:
        """Delivery completes within connect()/send() on the same host, so no waiting is needed."""
        return (
            _accepted(self.stream, b"path-connected:")
            + _datagram(self.dgram, b"dgram:")
            + _accepted(self.abstract, b"abstract-connected:")
        )

    def close(self) -> None:
        for sock in (self.stream, self.dgram, self.abstract):
            sock.close()


def _unix(kind: int, address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, kind)
    sock.bind(address)
    if kind == socket.SOCK_STREAM:
        sock.listen(8)
    sock.setblocking(False)
    return sock


def _accepted(server: socket.socket, label: bytes) -> bytes:
    try:
        connection, _ = server.accept()
    except BlockingIOError:
        return b""
    with connection:
        connection.settimeout(5)
        return label + connection.recv(4096)


def _datagram(sock: socket.socket, label: bytes) -> bytes:
    try:
        return label + sock.recv(4096)
    except BlockingIOError:
        return b""


def processes_with(marker: str) -> list[int]:
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


def process_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
