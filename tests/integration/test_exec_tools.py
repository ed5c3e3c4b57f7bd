"""Every built-in tool driven end to end: `pycodex exec --json` against the fake model server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from support import sse_builders as sse
from support.cli import run_cli, write_config
from support.fake_server import FakeModelServer

BASE = ["exec", "--skip-git-repo-check", "--json"]


@pytest.fixture
def home(tmp_path: Path, fake_server: FakeModelServer) -> Path:
    codex_home = tmp_path / "codex-home"
    write_config(codex_home, fake_server, features={"file_tools": True})
    return codex_home


def call(name: str, args: dict[str, Any], call_id: str) -> dict[str, Any]:
    return sse.function_call(name, json.dumps(args), call_id=call_id, id=f"fc_{call_id}")


def outputs(server: FakeModelServer, request_index: int) -> dict[str, Any]:
    return {
        item["call_id"]: item["output"]
        for item in server.requests[request_index].json()["input"]
        if item["type"].endswith("_call_output")
    }


def completed_items(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [
        e["item"] for e in events if e["type"] == "item.completed" and e["item"]["type"] == kind
    ]


def test_interactive_pty_session_across_write_stdin_calls(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    script = (
        "import sys; print('tty', sys.stdin.isatty()); name = input('name? '); print('hi', name)"
    )
    fake_server.expect_sse(
        "/v1/responses",
        sse.tool_calls(call("exec_command", {"cmd": f'python3 -c "{script}"', "tty": True,
                                             "login": False, "yield_time_ms": 1500}, "s1")),
    )  # fmt: skip
    fake_server.expect_sse(
        "/v1/responses",
        sse.tool_calls(call("write_stdin", {"session_id": 1000, "chars": "Ada\n",
                                            "yield_time_ms": 2000}, "s2")),
    )  # fmt: skip
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("greeted"))
    result = run_cli([*BASE, "greet"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    first = outputs(fake_server, 1)["s1"]
    assert "Process running with session ID 1000" in first
    assert "tty True" in first and "name? " in first
    second = outputs(fake_server, 2)["s2"]
    assert "Process exited with code 0" in second and "hi Ada" in second
    (command,) = completed_items(result.events(), "command_execution")
    assert command["exit_code"] == 0 and "hi Ada" in command["aggregated_output"]


def test_long_running_command_returns_a_session_then_is_polled(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    cmd = "echo started; sleep 1.5; echo finished"
    fake_server.expect_sse(
        "/v1/responses",
        sse.tool_calls(call("exec_command", {"cmd": cmd, "login": False,
                                             "yield_time_ms": 300}, "l1")),
    )  # fmt: skip
    fake_server.expect_sse(
        "/v1/responses",
        sse.tool_calls(call("write_stdin", {"session_id": 1000, "chars": "",
                                            "yield_time_ms": 10000}, "l2")),
    )  # fmt: skip
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    result = run_cli([*BASE, "run"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    first, second = outputs(fake_server, 1)["l1"], outputs(fake_server, 2)["l2"]
    assert "Process running with session ID 1000" in first and "started" in first
    assert "Process exited with code 0" in second and "finished" in second
    events = result.events()
    started = [e for e in events if e["type"] == "item.started"]
    assert len(started) == 1 and started[0]["item"]["status"] == "in_progress"


def test_timeout_kills_the_process_tree(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    write_config(home, fake_server, features={"unified_exec": False})
    pid_file = work / "pids"
    cmd = f"sleep 60 & echo $! > {pid_file}; echo $$ >> {pid_file}; wait"
    fake_server.expect_sse(
        "/v1/responses",
        sse.tool_calls(call("shell_command", {"command": cmd, "timeout_ms": 500,
                                              "login": False}, "t1")),
    )  # fmt: skip
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("timed out"))
    # no sandbox: pids written by the command must be host pids
    result = run_cli([*BASE, "--yolo", "hang"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    output = outputs(fake_server, 1)["t1"]
    assert output.startswith("Exit code: 124\n") and "timed out after 500 ms" in output
    for pid in map(int, pid_file.read_text().split()):
        assert not _alive(pid), f"process {pid} survived the timeout"


def _alive(pid: int) -> bool:
    """True for a running process; a zombie (killed, not yet reaped by init) counts as dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_multi_file_patch_with_move(fake_server: FakeModelServer, home: Path, work: Path) -> None:
    (work / "a.py").write_text("def f():\n    return 1\n\n\ndef g():\n    return 2\n")
    (work / "old.txt").write_text("keep\nchange me\n")
    (work / "gone.txt").write_text("bye\n")
    patch = (
        "*** Begin Patch\n"
        "*** Update File: a.py\n@@ def f():\n-    return 1\n+    return 10\n"
        "@@ def g():\n-    return 2\n+    return 20\n"
        "*** Update File: old.txt\n*** Move to: sub/new.txt\n@@\n keep\n-change me\n+changed\n"
        "*** Delete File: gone.txt\n"
        "*** Add File: added.md\n+# new\n"
        "*** End Patch\n"
    )
    fake_server.expect_sse(
        "/v1/responses", sse.tool_calls(sse.custom_tool_call("apply_patch", patch, call_id="p1"))
    )
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("patched"))
    result = run_cli([*BASE, "--full-auto", "patch"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    assert (work / "a.py").read_text() == "def f():\n    return 10\n\n\ndef g():\n    return 20\n"
    assert (work / "sub/new.txt").read_text() == "keep\nchanged\n"
    assert not (work / "old.txt").exists() and not (work / "gone.txt").exists()
    assert (work / "added.md").read_text() == "# new\n"
    (change,) = completed_items(result.events(), "file_change")
    assert change["status"] == "completed"
    assert [(c["path"], c["kind"]) for c in change["changes"]] == [
        (f"{work}/a.py", "update"), (f"{work}/sub/new.txt", "update"),
        (f"{work}/gone.txt", "delete"), (f"{work}/added.md", "add"),
    ]  # fmt: skip
    assert outputs(fake_server, 1)["p1"].endswith(
        "Success. Updated the following files:\nA added.md\nM a.py\nM sub/new.txt\nD gone.txt\n"
    )


def test_failing_patch_changes_nothing(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    (work / "one.txt").write_text("alpha\n")
    (work / "two.txt").write_text("beta\n")
    patch = (
        "*** Begin Patch\n*** Update File: one.txt\n@@\n-alpha\n+ALPHA\n"
        "*** Update File: two.txt\n@@\n-gamma\n+GAMMA\n*** End Patch\n"
    )
    fake_server.expect_sse(
        "/v1/responses", sse.tool_calls(sse.custom_tool_call("apply_patch", patch, call_id="p1"))
    )
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("failed"))
    result = run_cli([*BASE, "--full-auto", "patch"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    assert (work / "one.txt").read_text() == "alpha\n" and (
        work / "two.txt"
    ).read_text() == "beta\n"
    output = outputs(fake_server, 1)["p1"]
    assert output.startswith("Exit code: 1\n")
    assert "two.txt" in output and "gamma" in output
    (change,) = completed_items(result.events(), "file_change")
    assert change["status"] == "failed"


def test_patch_outside_writable_roots_is_refused(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    patch = "*** Begin Patch\n*** Add File: ../outside.txt\n+x\n*** End Patch\n"
    fake_server.expect_sse(
        "/v1/responses", sse.tool_calls(sse.custom_tool_call("apply_patch", patch, call_id="p1"))
    )
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("refused"))
    result = run_cli([*BASE, "--full-auto", "patch"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "outside.txt").exists()
    assert outputs(fake_server, 1)["p1"].startswith("Exit code: 1\n")


def test_file_tools_plan_image_and_user_input(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    (work / "src").mkdir()
    (work / "src/app.py").write_text("def main():\n    print('needle')\n")
    png = bytes.fromhex("89504e470d0a1a0a") + b"\x00" * 16
    (work / "pic.png").write_bytes(png)
    fake_server.expect_sse(
        "/v1/responses",
        sse.tool_calls(
            call("read_file", {"file_path": "src/app.py"}, "r1"),
            call("list_dir", {"dir_path": str(work)}, "r2"),
            call("grep_files", {"pattern": "needle"}, "r3"),
            call("view_image", {"path": "pic.png"}, "r4"),
            call("request_user_input", {"questions": [{"id": "q", "header": "H", "question": "?",
                                                       "options": [{"label": "a", "description": "d"}]}]}, "r5"),
            call("update_plan", {"plan": [{"step": "a", "status": "completed"}]}, "r6"),
        ),
    )  # fmt: skip
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("looked"))
    result = run_cli([*BASE, "look"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    out = outputs(fake_server, 1)
    assert out["r1"] == "L1: def main():\nL2:     print('needle')"
    assert out["r2"].startswith(f"Absolute path: {work}\n")
    assert out["r3"].strip().endswith("src/app.py")
    image = out["r4"]
    assert isinstance(image, list) and image[1]["image_url"].startswith("data:image/png;base64,")
    assert "no user is attached" in out["r5"]
    todo = [e for e in result.events() if e.get("item", {}).get("type") == "todo_list"]
    assert todo[-1]["item"]["items"] == [{"text": "a", "completed": True}]


def test_image_flag_attaches_to_first_message(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    png = bytes.fromhex("89504e470d0a1a0a") + b"\x00" * 8
    (work / "shot.png").write_bytes(png)
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("seen"))
    result = run_cli([*BASE, "-i", "shot.png", "what is this"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    content = fake_server.requests[0].json()["input"][-1]["content"]
    assert content[0]["type"] == "input_image"
    assert re.match(r"data:image/png;base64,", content[0]["image_url"])
    assert content[1] == {"type": "input_text", "text": "what is this"}
