"""The interactive agent driven in a real terminal (tmux) against the fake model server.

Each test starts `pycodex` in a detached tmux session on its own socket, types with send-keys and
reads the screen with capture-pane, polling until the expected text appears (never a fixed sleep).
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support import sse_builders as sse
from support.cli import cli_env, write_config
from support.fake_server import FakeModelServer

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

LAUNCH = "import sys; from pycodex.cli.main import main; sys.exit(main(sys.argv[1:]))"
TIMEOUT_S = 20.0
NS = "multi_agent_v1"


class Pane:
    """One tmux pane running pycodex; the shell wrapper prints the exit status when it ends."""

    def __init__(self, socket: Path, cwd: Path, env: dict[str, str], args: list[str]) -> None:
        self.socket = str(socket)
        self.env = env
        program = shlex.join([sys.executable, "-c", LAUNCH, *args])
        wrapped = f'{program}; echo "[pycodex exited $?]"'
        self._tmux(
            "-f", "/dev/null", "new-session", "-d", "-s", "repl", "-x", "100", "-y", "40",
            "-c", str(cwd), wrapped, ";", "set-option", "-t", "repl", "remain-on-exit", "on",
        )  # fmt: skip

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", self.socket, *args],
            env=self.env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "repl", "-l", text)

    def press(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "repl", *keys)

    def submit(self, text: str) -> None:
        self.type(text)
        self.press("Enter")

    def screen(self) -> str:
        """The whole pane history, wrapped lines joined."""
        return self._tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "repl")

    def wait_for(self, text: str, timeout_s: float = TIMEOUT_S) -> str:
        return self.wait_until(lambda screen: text in screen, f"{text!r}", timeout_s)

    def wait_until(
        self, check: Callable[[str], bool], what: str, timeout_s: float = TIMEOUT_S
    ) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen:\n{screen}")
            time.sleep(0.05)  # polling interval of capture-pane, not a wait for an outcome

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], env=self.env, check=False)


@pytest.fixture
def start(tmp_path: Path, home: Path, work: Path) -> Iterator[Callable[..., Pane]]:
    panes: list[Pane] = []

    def launch(*args: str) -> Pane:
        env = cli_env(home, TERM="xterm-256color")
        pane = Pane(tmp_path / f"tmux-{len(panes)}.sock", work, env, list(args))
        panes.append(pane)
        pane.wait_for("context left")  # the status bar is drawn: the input line is ready
        return pane

    yield launch
    for pane in panes:
        pane.close()


def exec_call(cmd: str, call_id: str, **extra: Any) -> dict[str, Any]:
    return sse.function_call("exec_command", json.dumps({"cmd": cmd, **extra}), call_id=call_id)


def user_texts(request_body: dict[str, Any]) -> list[str]:
    return [
        part["text"]
        for item in request_body["input"]
        if item.get("type") == "message" and item.get("role") == "user"
        for part in item["content"]
        if part.get("type") == "input_text"
    ]


def live_pids(token: str) -> list[int]:
    """Processes whose command line contains `token`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if token in cmdline:
            pids.append(int(entry.name))
    return pids


def test_conversation_with_a_tool_call_then_exit(
    fake_server: FakeModelServer, start: Callable[..., Pane]
) -> None:
    fake_server.expect_sse("/v1/responses", sse.tool_calls(exec_call("echo from-the-tool", "e1")))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("All **done**."))
    pane = start()
    pane.wait_for(">_ pycodex")  # the header is printed by the event pump, maybe after the prompt
    pane.submit("say hello")
    pane.wait_for("✓ Ran echo from-the-tool · exit 0")
    screen = pane.wait_for("tokens: 30 total")
    assert "› say hello" in screen and "from-the-tool" in screen and "All done." in screen
    pane.submit("/nope")
    pane.wait_for("Unknown command /nope")
    pane.submit("/exit")
    screen = pane.wait_for("[pycodex exited 0]")
    assert "session id:" in screen
    second = fake_server.requests[1].json()
    assert second["input"][-1]["type"] == "function_call_output"


def test_steering_joins_the_running_turn(
    fake_server: FakeModelServer, start: Callable[..., Pane]
) -> None:
    # Each frame of the first response is held back, so the turn is still open while we type.
    fake_server.expect_sse(
        "/v1/responses", sse.tool_calls(exec_call("echo step", "e1")), delay_s=0.4
    )
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("Steered."))
    pane = start()
    pane.submit("start the work")
    fake_server.wait_for_requests(1)
    pane.wait_for("Ctrl-C to interrupt")
    pane.submit("also look at the README")
    pane.wait_for("steer: also look at the README")
    pane.wait_for("Steered.")
    second = fake_server.requests[1].json()
    assert user_texts(second)[-1] == "also look at the README"
    assert len(fake_server.requests) == 2


def test_ctrl_c_interrupts_a_long_command_and_the_next_turn_works(
    fake_server: FakeModelServer, start: Callable[..., Pane]
) -> None:
    duration = "30.4242"  # unusual, so the process is easy to find
    fake_server.expect_sse(
        "/v1/responses",
        sse.tool_calls(exec_call(f"sleep {duration}", "e1", yield_time_ms=30000)),
    )
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("Still here."))
    pane = start()
    pane.submit("wait a while")
    pane.wait_for(f"Running sleep {duration}")
    pane.wait_until(lambda _screen: bool(live_pids(f"sleep {duration}")), "the sleep process")
    pane.press("C-c")
    pane.wait_for("Turn interrupted")
    pane.wait_until(lambda _screen: not live_pids(f"sleep {duration}"), "the sleep to be killed")
    pane.submit("are you there?")
    pane.wait_for("Still here.")
    second = fake_server.requests[1].json()
    outputs = [item for item in second["input"] if item.get("type") == "function_call_output"]
    assert [item["call_id"] for item in outputs] == ["e1"]
    assert user_texts(second)[-1] == "are you there?"


def test_model_switch_reaches_the_next_request_and_ctrl_d_exits(
    fake_server: FakeModelServer, start: Callable[..., Pane]
) -> None:
    fake_server.expect_json("/v1/models", {"data": [{"id": "test-model"}, {"id": "big-model"}]})
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("Switched."))
    pane = start()
    pane.submit("/model")
    pane.wait_for("* test-model")
    pane.wait_for("big-model")
    pane.submit("/model big-model")
    pane.wait_for("Model set to big-model.")
    pane.submit("hello")
    pane.wait_for("Switched.")
    assert fake_server.requests[-1].json()["model"] == "big-model"
    pane.submit("/status")
    pane.wait_for("model         big-model")
    pane.press("C-d")
    pane.wait_for("[pycodex exited 0]")


def test_ctrl_c_twice_on_an_empty_line_exits(start: Callable[..., Pane]) -> None:
    pane = start()
    pane.press("C-c")
    pane.wait_for("Ctrl-C again to exit")
    pane.press("C-c")
    pane.wait_for("[pycodex exited 0]")


def test_piped_stdin_runs_one_turn_and_exits(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("Piped answer."))
    done = subprocess.run(
        [sys.executable, "-c", LAUNCH],
        input="question from a pipe", capture_output=True, text=True, cwd=work,
        env=cli_env(home), timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "› question from a pipe" in done.stdout and "Piped answer." in done.stdout
    assert "\x1b" not in done.stdout
    assert user_texts(fake_server.requests[0].json())[-1] == "question from a pipe"


def test_request_user_input_is_a_choice_list(
    fake_server: FakeModelServer, start: Callable[..., Pane]
) -> None:
    question = {
        "id": "db",
        "header": "Database",
        "question": "Which database?",
        "options": [
            {"label": "SQLite", "description": "One file."},
            {"label": "Postgres", "description": "A server."},
        ],
    }
    call = sse.function_call("request_user_input", json.dumps({"questions": [question]}))
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("Postgres it is."))
    pane = start()
    pane.submit("set up the app")
    pane.wait_for("2. Postgres — A server.")
    pane.wait_for("answer ›")
    pane.submit("2")
    pane.wait_for("Postgres it is.")
    output = fake_server.requests[1].json()["input"][-1]
    assert json.loads(output["output"]) == {"answers": {"db": "Postgres"}}


def test_queued_message_waits_for_the_turn_to_end(
    fake_server: FakeModelServer, start: Callable[..., Pane]
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("First answer."), delay_s=0.4)
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("Second answer."))
    pane = start()
    pane.submit("first")
    fake_server.wait_for_requests(1)
    pane.submit("/queue second")
    pane.wait_for("queued: second")
    pane.wait_for("Second answer.")
    first, second = (request.json() for request in fake_server.requests)
    assert user_texts(first)[-1] == "first"
    assert user_texts(second)[-2:] == ["first", "second"]


def test_compact_resume_fork_and_approval(
    start: Callable[..., Pane], fake_server: FakeModelServer, home: Path, tmp_path: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("first answer"))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("HANDOFF NOTE"))
    pane = start("-c", 'approval_policy="on-request"')
    pane.submit("remember the number 42")
    pane.wait_for("first answer")
    pane.submit("/compact")
    pane.wait_for("✓ Compacted:")
    summarizing = fake_server.requests[1].json()
    assert summarizing["tools"] == []
    pane.submit("/exit")
    pane.wait_for("[pycodex exited 0]")

    # A new process resumes the session through the /resume picker, then forks it.
    target = tmp_path / "escalated.txt"
    call = exec_call(f"touch {target}", "e1", login=False, sandbox_permissions="require_escalated")
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("touched it"))
    second = start("-c", 'approval_policy="on-request"')
    second.submit("/resume")
    second.wait_for("Recent sessions here:")
    second.submit("1")
    second.wait_for("Continuing session")
    second.submit("now touch the file")
    second.wait_for("Run outside the sandbox")
    second.submit("y")
    second.wait_for("touched it")
    assert target.exists()
    body = fake_server.requests[2].json()
    assert "remember the number 42" in user_texts(body)
    assert any("HANDOFF NOTE" in text for text in user_texts(body))
    second.submit("/fork")
    second.wait_for("you are now in the fork")
    second.submit("/exit")
    second.wait_for("[pycodex exited 0]")
    assert len(list((home / "sessions").rglob("rollout-*.jsonl"))) == 2


@pytest.mark.parametrize(
    ("setting", "recorded"), [([], True), (["-c", 'history.persistence="none"'], False)]
)
def test_history_persistence_none_writes_no_prompt_history(
    fake_server: FakeModelServer,
    start: Callable[..., Pane],
    home: Path,
    setting: list[str],
    recorded: bool,
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("Noted."))
    pane = start(*setting)
    pane.submit("remember this line")
    pane.wait_for("Noted.")
    pane.submit("/exit")
    pane.wait_for("[pycodex exited 0]")
    history = home / "prompt_history"
    if recorded:
        assert "remember this line" in history.read_text()
    else:
        assert not history.exists()


def test_memories_are_announced_and_shown(
    start: Callable[..., Pane], home: Path, fake_server: FakeModelServer
) -> None:
    write_config(home, fake_server, features={"memories": True})
    (home / "memories_v2").mkdir()
    summary = "v1\n## User Profile\nPrefers TABS-NOT-SPACES.\n"
    (home / "memories_v2" / "memory_summary.md").write_text(summary, encoding="utf-8")
    pane = start()
    pane.wait_for("Using memories from earlier sessions (/memories shows them).")
    pane.submit("/memories")
    pane.wait_for("Prefers TABS-NOT-SPACES.")
    assert "This session started with the memory summary; as it is now:" in pane.screen()
    pane.submit("/exit")
    pane.wait_for("[pycodex exited 0]")


def test_a_sub_agent_asks_through_the_same_prompt(
    fake_server: FakeModelServer, start: Callable[..., Pane], tmp_path: Path
) -> None:
    from support.fake_server import RecordedRequest, user_message_contains

    target = tmp_path / "made-by-child.txt"
    task = "CHILD-TASK-5e1: touch the file"
    when = user_message_contains("CHILD-TASK-5e1")
    call = exec_call(f"touch {target}", "k1", login=False, sandbox_permissions="require_escalated")
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call), when=when)
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("CHILD-TOUCHED"), when=when)
    spawn = sse.function_call("spawn_agent", json.dumps({"message": task}), call_id="c_spawn")
    fake_server.expect_sse("/v1/responses", sse.tool_calls({**spawn, "namespace": NS}))

    def wait_for_child(request: RecordedRequest) -> list[dict[str, Any]]:
        (spawned,) = [
            json.loads(item["output"])
            for item in request.json()["input"]
            if item.get("type") == "function_call_output" and item["call_id"] == "c_spawn"
        ]
        wait = sse.function_call(
            "wait_agent", json.dumps({"targets": [spawned["agent_id"]]}), call_id="c_wait"
        )
        return sse.tool_calls({**wait, "namespace": NS})

    fake_server.expect_sse_from("/v1/responses", wait_for_child)
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("PARENT-DONE"))
    pane = start("-c", 'approval_policy="on-request"')
    pane.submit("delegate the touching")
    screen = pane.wait_for("wants to run outside the sandbox")
    (asked,) = [line for line in screen.splitlines() if "wants to run" in line]
    nickname = asked.split("? Agent ", 1)[1].split(" wants to run", 1)[0]
    assert nickname and f"touch {target}" in asked
    assert not target.exists()
    pane.wait_for("answer ›")
    pane.submit("y")
    pane.wait_for("PARENT-DONE")
    assert target.exists()
    waited = [
        json.loads(item["output"])
        for item in fake_server.requests[-1].json()["input"]
        if item.get("type") == "function_call_output" and item["call_id"] == "c_wait"
    ]
    assert [next(iter(w["status"].values())) for w in waited] == [{"completed": "CHILD-TOUCHED"}]
    spawned = [r for r in fake_server.requests if r.headers.get("x-openai-subagent")]
    assert len(spawned) == 2
