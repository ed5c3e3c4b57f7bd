"""A 50-task batch with every kind of outcome, scripted on the fake model server.

Each task's prompt carries a marker (`[t07]`) and the server answers by marker with standing
scripts, so the tasks may run in any order, on any number of workers, and a task cut short by
a killed batch can run again. The tasks:

    t00-t39  plain: the model answers "answer tNN"
    t40-t41  schema: an inline output schema; the answer is JSON
    t42      edit a clone of a local repository at tag v1 (apply_patch), the diff is the result
    t43      edit a copy of a plain directory (a new file)
    t44-t45  fail: the server rejects the request (400)
    t46      time out: the stream stalls; the task's timeout_s is 2
    t47      flaky: the first request fails (400), later ones succeed (needs --retries 1)
    t48      bad profile: exec exits 2 before any request
    t49      a config override (`model`) that shows in the request
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support import sse_builders as sse
from support.fake_http import RecordedRequest
from support.fake_server import FakeModelServer

PATH = "/v1/responses"
TASK_IDS = [f"t{n:02d}" for n in range(50)]
SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}
REPO_PATCH = (
    "*** Begin Patch\n*** Update File: README.md\n@@\n-version one\n+version one, edited\n"
    "*** End Patch\n"
)
DIR_PATCH = "*** Begin Patch\n*** Add File: notes.txt\n+written by t43\n*** End Patch\n"
TIMEOUT_S = 2


def marker(task_id: str) -> str:
    return f"[{task_id}]"


@dataclass(frozen=True)
class Scenario:
    tasks_path: Path
    repo: Path
    plain_dir: Path

    def expected(self) -> dict[str, dict[str, Any]]:
        """What each task's result must say (the fields that do not vary run to run)."""
        out: dict[str, dict[str, Any]] = {}
        for task_id in TASK_IDS[:40]:
            out[task_id] = {"status": "completed", "final_message": f"answer {task_id}"}
        for task_id in ("t40", "t41"):
            out[task_id] = {"status": "completed", "final_message": {"answer": task_id}}
        out["t42"] = {"status": "completed", "final_message": "edited README"}
        out["t43"] = {"status": "completed", "final_message": "added notes"}
        for task_id in ("t44", "t45"):
            out[task_id] = {"status": "failed", "exit_code": 1, "attempts": 2}
        out["t46"] = {"status": "timed_out", "error": f"timed out after {TIMEOUT_S} s"}
        out["t47"] = {"status": "completed", "final_message": "answer t47"}
        out["t48"] = {"status": "failed", "exit_code": 2, "attempts": 2}
        out["t49"] = {"status": "completed", "final_message": "answer t49"}
        return out


def write_scenario(root: Path, server: FakeModelServer) -> Scenario:
    """Write the tasks file and its fixtures under `root`; script `server` for every task."""
    repo = _fixture_repo(root / "repo")
    plain = root / "plain"
    plain.mkdir()
    (plain / "data.txt").write_text("some data\n")
    lines = [_task_line(task_id, repo, plain) for task_id in TASK_IDS]
    tasks_path = root / "tasks.jsonl"
    tasks_path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    _script(server)
    return Scenario(tasks_path, repo, plain)


def _task_line(task_id: str, repo: Path, plain: Path) -> dict[str, Any]:
    line: dict[str, Any] = {"id": task_id, "prompt": f"Task {marker(task_id)}: do the work."}
    number = int(task_id[1:])
    if number in (40, 41):
        line["output_schema"] = SCHEMA
    elif number == 42:
        line.update(repo=str(repo), ref="v1", sandbox="workspace-write")
    elif number == 43:
        line.update(cwd=str(plain), sandbox="workspace-write")
    elif number == 46:
        line["timeout_s"] = TIMEOUT_S
    elif number == 48:
        line["profile"] = "nope"
    elif number == 49:
        line["config"] = {"model": "other-model"}
    return line


def _script(server: FakeModelServer) -> None:
    for task_id in TASK_IDS:
        number, tag = int(task_id[1:]), marker(task_id)
        if number in (40, 41):
            reply = sse.assistant_reply(json.dumps({"answer": task_id}))
            server.expect_sse(PATH, reply, marker=tag, repeat=True)
        elif number == 42:
            _edit(server, tag, REPO_PATCH, "edited README")
        elif number == 43:
            _edit(server, tag, DIR_PATCH, "added notes")
        elif number in (44, 45):
            body = {"error": {"message": f"bad request for {task_id}", "type": "invalid_request"}}
            server.expect_error(PATH, 400, body, marker=tag, repeat=True)
        elif number == 46:
            server.expect_sse(PATH, sse.assistant_reply("never"), stall_after=1, marker=tag,
                              repeat=True)  # fmt: skip
        elif number == 47:
            body = {"error": {"message": "not this time", "type": "invalid_request"}}
            server.expect_error(PATH, 400, body, marker=tag)
            server.expect_sse(PATH, sse.assistant_reply(f"answer {task_id}"), marker=tag,
                              repeat=True)  # fmt: skip
        elif number != 48:
            server.expect_sse(PATH, sse.assistant_reply(f"answer {task_id}"), marker=tag,
                              repeat=True)  # fmt: skip


def _edit(server: FakeModelServer, tag: str, patch: str, done: str) -> None:
    """First request: an apply_patch call; once its output is in the input: the answer."""

    def events(request: RecordedRequest) -> list[dict[str, Any]]:
        items = request.json()["input"]
        if any(item.get("type") == "custom_tool_call_output" for item in items):
            return sse.assistant_reply(done)
        return sse.tool_calls(sse.custom_tool_call("apply_patch", patch, call_id="p1"))

    server.expect_sse_from(PATH, events, marker=tag, repeat=True)


def _fixture_repo(repo: Path) -> Path:
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "README.md").write_text("version one\n")
    subprocess.run([*git, "add", "README.md"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    subprocess.run([*git, "tag", "v1"], check=True)
    (repo / "README.md").write_text("version two\n")
    subprocess.run([*git, "commit", "-qam", "two"], check=True)
    return repo


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """A result line without what differs between two runs of the same task: times, ids,
    paths, how many attempts a flaky task needed, and the exit status of an exec stopped by
    the timeout (it depends on how far exec had got when the signal came)."""
    varying = {"duration_s", "session_file", "thread_id"}
    out = {key: value for key, value in result.items() if key not in varying}
    if result["id"] == "t47":
        out.pop("attempts")
    if result["status"] == "timed_out":
        out.pop("exit_code")
    return out
