"""The sandbox seam: what `prepare_command` produces, the layout it grants, status and errors.

Real mechanisms only: commands run under real bwrap or the real Landlock wrapper; a test that
needs one this machine cannot run is skipped with the probe's reason. The security battery is
in tests/integration/test_sandbox_battery.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pycodex.cli.sandbox_command import run_sandbox_command
from pycodex.execution.fdio import FdReader
from pycodex.execution.landlock_exec import LandlockPlan
from pycodex.execution.sandbox import (
    MECHANISM_OVERRIDE_ENV,
    NETWORK_DISABLED_ENV,
    SANDBOX_ENV,
    PreparedCommand,
    SandboxUnavailableError,
    prepare_command,
    sandbox_status,
)
from pycodex.execution.sandbox_roots import layout_for
from pycodex.execution.spawn import spawn_pty
from pycodex.protocol.policies import SandboxMode, SandboxPolicy

CONFINING = (SandboxMode.READ_ONLY, SandboxMode.WORKSPACE_WRITE)


@pytest.fixture(params=["bwrap", "landlock"])
def mechanism(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    name: str = request.param
    monkeypatch.setenv(MECHANISM_OVERRIDE_ENV, name)
    status = sandbox_status()
    if status.mechanism != name:
        pytest.skip(f"{name} cannot run on this machine: {status.detail}")
    return name


@pytest.fixture
def no_mechanism(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Force bwrap, then hide it: the real "nothing works" path, with no fallback."""
    monkeypatch.setenv(MECHANISM_OVERRIDE_ENV, "bwrap")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))


def test_full_access_runs_the_command_unchanged(tmp_path: Path) -> None:
    prepared = prepare_command(["sh", "-c", "true"], tmp_path, SandboxPolicy.full_access())
    assert prepared == PreparedCommand(argv=("sh", "-c", "true"))


@pytest.mark.parametrize("mode", CONFINING, ids=str)
def test_confined_commands_are_wrapped_and_told_so(
    mechanism: str, mode: SandboxMode, tmp_path: Path
) -> None:
    prepared = prepare_command(["sh", "-c", "true"], tmp_path, SandboxPolicy(mode=mode))
    assert prepared.enforced
    assert prepared.degraded is None
    assert prepared.argv[-3:] == ("sh", "-c", "true")
    assert len(prepared.argv) > 3
    expected = {SANDBOX_ENV: mechanism, NETWORK_DISABLED_ENV: "1"}
    if mode is SandboxMode.READ_ONLY:
        expected["TMPDIR"] = "/dev/shm"  # the private scratch space
    assert prepared.env_overrides == expected


def test_network_access_drops_the_network_disabled_variable(mechanism: str, tmp_path: Path) -> None:
    policy = SandboxPolicy(mode=SandboxMode.WORKSPACE_WRITE, network_access=True)
    prepared = prepare_command(["true"], tmp_path, policy)
    assert prepared.env_overrides == {SANDBOX_ENV: mechanism}


def test_empty_command_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty command"):
        prepare_command([], tmp_path, SandboxPolicy.read_only())


@pytest.mark.usefixtures("no_mechanism")
def test_no_mechanism_refuses_with_one_actionable_line(tmp_path: Path) -> None:
    assert sandbox_status().mechanism is None
    with pytest.raises(SandboxUnavailableError) as caught:
        prepare_command(["true"], tmp_path, SandboxPolicy.read_only())
    message = str(caught.value)
    assert "\n" not in message
    assert "bwrap was not found on PATH" in message
    assert "apt-get install bubblewrap" in message
    assert "--sandbox danger-full-access" in message
    # The user's explicit choice still works.
    assert prepare_command(["true"], tmp_path, SandboxPolicy.full_access()).argv == ("true",)


def test_unknown_override_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MECHANISM_OVERRIDE_ENV, "chroot")
    status = sandbox_status()
    assert status.mechanism is None
    assert MECHANISM_OVERRIDE_ENV in status.detail


def test_status_is_probed_once(mechanism: str) -> None:
    assert sandbox_status() is sandbox_status()


def test_layout_protects_git_codex_and_gitdir_targets(tmp_path: Path) -> None:
    workspace, extra, store = tmp_path / "ws", tmp_path / "extra", tmp_path / "extra-store"
    (workspace / ".git").mkdir(parents=True)
    (workspace / ".codex").mkdir()
    extra.mkdir()
    store.mkdir()
    (extra / ".git").write_text("gitdir: ../extra-store\n")
    policy = SandboxPolicy(
        mode=SandboxMode.WORKSPACE_WRITE,
        writable_roots=(extra, tmp_path / "missing"),
        exclude_slash_tmp=True,
    )
    layout = layout_for(policy, workspace, environ={"TMPDIR": str(tmp_path)})
    assert layout.writable == (tmp_path, extra, workspace)  # parents first; missing skipped
    assert set(layout.protected) == {
        workspace / ".git",
        workspace / ".codex",
        extra / ".git",
        store,
    }


def test_layout_honours_tmp_exclusions_and_read_only(tmp_path: Path) -> None:
    policy = SandboxPolicy(mode=SandboxMode.WORKSPACE_WRITE)
    default = layout_for(policy, tmp_path, environ={"TMPDIR": str(tmp_path)})
    assert Path("/tmp") in default.writable
    excluded = SandboxPolicy(
        mode=SandboxMode.WORKSPACE_WRITE, exclude_slash_tmp=True, exclude_tmpdir_env_var=True
    )
    assert layout_for(excluded, tmp_path, environ={"TMPDIR": "/tmp"}).writable == (tmp_path,)
    assert layout_for(SandboxPolicy.read_only(), tmp_path).writable == ()


def test_bwrap_mounts_protected_paths_after_writable_roots(tmp_path: Path) -> None:
    if sandbox_status().mechanism != "bwrap":
        pytest.skip(f"bwrap cannot run on this machine: {sandbox_status().detail}")
    (tmp_path / ".git").mkdir()
    policy = SandboxPolicy(mode=SandboxMode.WORKSPACE_WRITE, network_access=True)
    argv = list(prepare_command(["true"], tmp_path, policy).argv)
    assert "--unshare-net" not in argv
    assert argv.index("--ro-bind") < argv.index("--bind")
    bind_root = argv.index("--bind", argv.index(str(tmp_path)) - 1)
    protect = argv.index(str(tmp_path / ".git")) - 1
    assert argv[protect] == "--ro-bind"
    assert bind_root < protect
    assert argv[argv.index("--chdir") + 1] == str(tmp_path)


def test_landlock_plan_round_trips() -> None:
    plan = LandlockPlan(
        writable=("/a b",), protected=("/a b/.git",), network=False, private_tmp=True
    )
    assert LandlockPlan.from_json(plan.to_json()) == plan


@pytest.mark.parametrize("mode", CONFINING, ids=str)
async def test_pty_child_keeps_its_controlling_terminal(
    mechanism: str, mode: SandboxMode, tmp_path: Path
) -> None:
    script = (
        "import os; print(os.isatty(0), os.isatty(1)); "
        "os.close(os.open('/dev/tty', os.O_RDWR)); print('ctty-ok')"
    )
    child = await spawn_pty(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=dict(os.environ),
        sandbox=SandboxPolicy(mode=mode),
    )
    chunks: list[bytes] = []
    reader = FdReader(child.output_fd, chunks.append)
    try:
        await child.process.wait()
        await reader.wait_eof(5.0)
    finally:
        reader.stop()
        child.close()
    output = b"".join(chunks).decode()
    assert child.sandboxed
    assert child.process.returncode == 0, output
    assert "True True" in output
    assert "ctty-ok" in output


def test_sandbox_command_passes_the_exit_code_through(
    mechanism: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    code = run_sandbox_command(
        ["--mode", "workspace-write", "-C", str(tmp_path), "--", "sh", "-c", "echo hi > f; exit 7"]
    )
    captured = capfd.readouterr()
    assert code == 7
    assert (tmp_path / "f").read_text() == "hi\n"
    assert captured.err.startswith("sandbox: workspace-write via ")


def test_sandbox_command_read_only_blocks_writes(
    mechanism: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    code = run_sandbox_command(["-C", str(tmp_path), "--", "sh", "-c", "echo hi > f"])
    assert code != 0
    assert not (tmp_path / "f").exists()
    capfd.readouterr()


@pytest.mark.usefixtures("no_mechanism")
def test_sandbox_command_reports_an_unavailable_sandbox(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    code = run_sandbox_command(["-C", str(tmp_path), "--", "/bin/true"])
    captured = capfd.readouterr()
    assert code == 1
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("error: sandbox unavailable: bwrap was not found on PATH;")


def test_sandbox_command_without_a_command_is_a_usage_error(
    capfd: pytest.CaptureFixture[str],
) -> None:
    assert run_sandbox_command(["--mode", "read-only"]) == 2
    assert "no command given" in capfd.readouterr().err
