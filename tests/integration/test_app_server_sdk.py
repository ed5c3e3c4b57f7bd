"""`pycodex app-server` driven by the official Codex Python SDK (`openai-codex`), unchanged.

The SDK runs `pycodex [--config k=v]... app-server --listen stdio://` (its CodexConfig.codex_bin
points at this venv's script) and the model is the scripted fake server.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openai_codex import (
    AsyncCodex,
    Codex,
    LocalImageInput,
    Sandbox,
    TextInput,
    TransportClosedError,
)
from openai_codex._run import _collect_turn_result
from openai_codex.generated.v2_all import (
    AgentMessageDeltaNotification,
    CommandExecutionThreadItem,
    FileChangeThreadItem,
    ItemStartedNotification,
    ThreadSourceKind,
    TurnCompletedNotification,
)
from openai_codex.models import UnknownNotification

from support import sse_builders as sse
from support.app_server import PYCODEX_BIN, close_sdk_pipes, sdk_config
from support.cli import cli_env, run_cli
from support.fake_server import FakeModelServer, body_contains


@pytest.fixture(autouse=True)
def _sdk_pipes(monkeypatch: pytest.MonkeyPatch) -> None:
    close_sdk_pipes(monkeypatch)


def command_call(cmd: str, call_id: str = "call_1", **extra: Any) -> dict[str, Any]:
    args = {"cmd": cmd, "login": False, **extra}
    return sse.function_call("exec_command", json.dumps(args), call_id=call_id)


def user_texts(body: dict[str, Any]) -> list[str]:
    """What the user typed, in order (not the injected environment context)."""
    return [
        part["text"]
        for item in body["input"]
        if item.get("role") == "user"
        for part in item["content"]
        if part.get("type") == "input_text" and not part["text"].startswith("<environment")
    ]


def call_output(body: dict[str, Any], call_id: str) -> str:
    for item in body["input"]:
        if item.get("type") == "function_call_output" and item["call_id"] == call_id:
            return str(item["output"])
    raise AssertionError(f"no output for {call_id} in the request")


def test_run_to_a_final_answer_with_streamed_deltas(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("Hello from the fake model"))
    with Codex(sdk_config(home, work)) as codex:
        assert codex.metadata.serverInfo is not None
        assert codex.metadata.serverInfo.version.startswith("0.169.0 (pycodex ")
        thread = codex.thread_start()
        handle = thread.turn("Say hello")
        events = list(handle.stream())
    assert not [e for e in events if isinstance(e.payload, UnknownNotification)]
    deltas = [e.payload for e in events if isinstance(e.payload, AgentMessageDeltaNotification)]
    assert "".join(d.delta for d in deltas) == "Hello from the fake model"
    assert {d.item_id for d in deltas} == {"msg_1"}
    completed = events[-1].payload
    assert isinstance(completed, TurnCompletedNotification)
    assert completed.turn.status.value == "completed"
    request = fake_server.requests[0]
    assert request.headers["originator"] == "codex_python_sdk"
    assert user_texts(request.json())[-1] == "Say hello"


def test_tool_call_becomes_a_command_execution_item(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.tool_calls(command_call("echo hi-from-tool")))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("done", response_id="resp_2"))
    with Codex(sdk_config(home, work)) as codex:
        handle = codex.thread_start(sandbox=Sandbox.full_access).turn("run echo")
        events = list(handle.stream())
    result = _collect_turn_result(iter(events), turn_id=handle.id)
    streamed = [e.payload for e in events if e.method == "item/commandExecution/outputDelta"]
    assert [(d.item_id, d.delta) for d in streamed] == [("call_1", "hi-from-tool\n")]
    commands = [i.root for i in result.items if isinstance(i.root, CommandExecutionThreadItem)]
    assert len(commands) == 1
    command = commands[0]
    assert command.id == "call_1"
    assert command.command.endswith("-c 'echo hi-from-tool'")
    assert command.aggregated_output == "hi-from-tool\n"
    assert command.exit_code == 0
    assert command.status.value == "completed"
    assert result.final_response == "done"
    assert "hi-from-tool" in call_output(fake_server.requests[1].json(), "call_1")
    assert result.usage is not None and result.usage.total.total_tokens == 30


def test_structured_output_schema_reaches_the_model(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    fake_server.expect_sse("/v1/responses", sse.assistant_reply('{"answer": "42"}'))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("free text", response_id="r2"))
    with Codex(sdk_config(home, work)) as codex:
        thread = codex.thread_start()
        result = thread.run("answer as JSON", output_schema=schema)
        second = thread.run("now without a schema")
    assert json.loads(result.final_response or "") == {"answer": "42"}
    assert second.final_response == "free text"
    text_format = fake_server.requests[0].json()["text"]["format"]
    assert text_format == {
        "type": "json_schema",
        "strict": True,
        "schema": schema,
        "name": "codex_output_schema",
    }
    assert "format" not in (fake_server.requests[1].json().get("text") or {})


def test_resume_list_and_read_in_a_second_process(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("first answer"))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("second answer", "r2", "msg_2"))
    with Codex(sdk_config(home, work)) as codex:
        thread_id = codex.thread_start().id
        codex._client.thread_read(thread_id)  # a loaded thread reads from memory
        assert codex.thread_start().run("first question").final_response == "first answer"
    with Codex(sdk_config(home, work)) as codex:
        listed = codex.thread_list()
        assert [t.preview for t in listed.data] == ["first question"]
        resumed_id = listed.data[0].id
        resumed = codex.thread_resume(resumed_id)
        assert resumed.id == resumed_id
        assert resumed.run("second question").final_response == "second answer"
        read = resumed.read(include_turns=True).thread
    texts = user_texts(fake_server.requests[1].json())
    assert texts[-2:] == ["first question", "second question"]
    assert [turn.status.value for turn in read.turns] == ["completed", "completed"]
    kinds = [[item.root.type for item in turn.items] for turn in read.turns]
    assert kinds == [["userMessage", "agentMessage"], ["userMessage", "agentMessage"]]
    assert read.source.root.value == "vscode"
    assert read.preview == "first question"


def test_app_server_threads_resume_in_exec_and_the_reverse(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("from the sdk"))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("from exec", "r2", "m2"))
    with Codex(sdk_config(home, work)) as codex:
        thread = codex.thread_start()
        thread.run("asked through the sdk")
    result = run_cli(
        ["exec", "--skip-git-repo-check", "--json", "resume", thread.id, "asked through exec"],
        codex_home=home,
        cwd=work,
    )
    assert result.returncode == 0, result.stderr
    assert user_texts(fake_server.requests[1].json())[-2:] == [
        "asked through the sdk",
        "asked through exec",
    ]
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("back in the sdk", "r3", "m3"))
    with Codex(sdk_config(home, work)) as codex:
        turns = codex.thread_resume(thread.id).read(include_turns=True).thread.turns
        assert len(turns) == 2
        assert codex.thread_resume(thread.id).run("again").final_response == "back in the sdk"


def test_interrupt_stops_a_running_command(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    call = command_call("sleep 30", yield_time_ms=60_000)
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok", response_id="r2"))
    with Codex(sdk_config(home, work)) as codex:
        thread = codex.thread_start(sandbox=Sandbox.full_access)
        handle = thread.turn("sleep for a while")
        events = []
        for event in handle.stream():
            events.append(event)
            payload = event.payload
            if isinstance(payload, ItemStartedNotification) and isinstance(
                payload.item.root, CommandExecutionThreadItem
            ):
                handle.interrupt()
        assert isinstance(events[-1].payload, TurnCompletedNotification)
        assert events[-1].payload.turn.status.value == "interrupted"
        assert thread.run("what happened?").final_response == "ok"
    assert call_output(fake_server.requests[1].json(), "call_1") == "aborted"


def test_two_threads_run_at_once(fake_server: FakeModelServer, home: Path, work: Path) -> None:
    for name in ("ALPHA", "BETA"):
        reply = sse.assistant_reply(f"answer {name}", item_id=f"msg_{name}")
        fake_server.expect_sse("/v1/responses", reply, when=body_contains(name), delay_s=0.2)
    with Codex(sdk_config(home, work)) as codex:
        first, second = codex.thread_start(), codex.thread_start()
        handles = [first.turn("question ALPHA"), second.turn("question BETA")]
        results = [handle.run() for handle in handles]
    assert [r.final_response for r in results] == ["answer ALPHA", "answer BETA"]


def test_model_error_surfaces_as_the_sdks_exception(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    for _ in range(2):  # one retry of the turn, then the failure
        fake_server.expect_error("/v1/responses", 500, {"error": {"message": "boom"}})
    overrides = (
        "model_providers.fake.request_max_retries=0",
        "model_providers.fake.stream_max_retries=1",
    )
    with Codex(sdk_config(home, work, *overrides)) as codex:
        thread = codex.thread_start()
        with pytest.raises(RuntimeError) as failure:
            thread.run("this will fail")
    assert "500" in str(failure.value)


def test_failed_turn_reports_errors_with_retry_flags(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    for _ in range(2):
        fake_server.expect_error("/v1/responses", 500, {"error": {"message": "boom"}})
    overrides = (
        "model_providers.fake.request_max_retries=0",
        "model_providers.fake.stream_max_retries=1",
    )
    with Codex(sdk_config(home, work, *overrides)) as codex:
        events = list(codex.thread_start().turn("fail").stream())
    errors = [e.payload for e in events if e.method == "error"]
    assert [e.will_retry for e in errors] == [True, False]
    assert errors[1].error.codex_error_info.root.value == "internalServerError"
    completed = events[-1].payload
    assert isinstance(completed, TurnCompletedNotification)
    assert completed.turn.status.value == "failed"
    assert (
        completed.turn.error is not None and completed.turn.error.message == errors[1].error.message
    )


async def test_async_codex_runs_a_turn(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("async hello"))
    async with AsyncCodex(sdk_config(home, work)) as codex:
        thread = await codex.thread_start()
        result = await thread.run("hello?")
        models = await codex.models()
    assert result.final_response == "async hello"
    assert models.data[0].id == "test-model" and models.data[0].is_default


def test_image_input_and_per_turn_overrides(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    image = work / "pixel.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("seen"))
    with Codex(sdk_config(home, work)) as codex:
        thread = codex.thread_start()
        thread.run([TextInput("what is this?"), LocalImageInput(str(image))], model="other-model")
    body = fake_server.requests[0].json()
    assert body["model"] == "other-model"
    parts = {part["type"]: part for part in body["input"][-1]["content"]}
    assert parts["input_text"]["text"] == "what is this?"
    assert parts["input_image"]["image_url"].startswith("data:image/png;base64,")


def test_names_archive_fork_and_models(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("kept"))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("forked reply", "r2", "m2"))
    with Codex(sdk_config(home, work)) as codex:
        thread = codex.thread_start()
        thread.run("original question")
        thread.set_name("my thread")
        fork = codex.thread_fork(thread.id)
        assert fork.id != thread.id
        assert fork.run("fork question").final_response == "forked reply"
        listed = {t.id: t for t in codex.thread_list().data}
        assert listed[thread.id].name == "my thread"
        codex.thread_archive(thread.id)
        assert thread.id not in {t.id for t in codex.thread_list().data}
        assert [t.id for t in codex.thread_list(archived=True).data] == [thread.id]
        codex.thread_unarchive(thread.id)
        assert thread.id in {t.id for t in codex.thread_list().data}
        model_ids = [m.id for m in codex.models().data]
    assert model_ids[0] == "test-model" and "gpt-5" in model_ids
    assert user_texts(fake_server.requests[1].json())[-2:] == ["original question", "fork question"]


def test_sdk_reports_a_dead_server(home: Path, work: Path) -> None:
    (home / "config.toml").write_text('model_provider = "nowhere"\n')
    with pytest.raises((TransportClosedError, RuntimeError, OSError)):
        Codex(sdk_config(home, work))
    result = subprocess.run(
        [PYCODEX_BIN, "app-server"], capture_output=True, text=True, env=cli_env(home), cwd=work,
        stdin=subprocess.DEVNULL, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr


def test_patch_becomes_a_file_change_item_with_its_diff(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    patch = "*** Begin Patch\n*** Add File: notes.txt\n+first line\n*** End Patch\n"
    fake_server.expect_sse(
        "/v1/responses", sse.tool_calls(sse.custom_tool_call("apply_patch", patch))
    )
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("written", response_id="r2"))
    with Codex(sdk_config(home, work)) as codex:
        result = codex.thread_start(sandbox=Sandbox.workspace_write).run("write notes")
    (change,) = [i.root for i in result.items if isinstance(i.root, FileChangeThreadItem)]
    assert change.id == "call_1" and change.status.value == "completed"
    (update,) = change.changes
    # Absolute, as in exec --json: a client whose working directory differs still finds it.
    assert (update.path, update.kind.root.type) == (str(work / "notes.txt"), "add")
    assert "+first line" in update.diff
    assert (work / "notes.txt").read_text() == "first line\n"


def test_steer_joins_the_running_turn(fake_server: FakeModelServer, home: Path, work: Path) -> None:
    gate = work / "go"
    call = command_call(f"while [ ! -e {gate} ]; do sleep 0.02; done", yield_time_ms=30_000)
    fake_server.expect_sse("/v1/responses", sse.tool_calls(call))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("steered", response_id="r2"))
    with Codex(sdk_config(home, work)) as codex:
        handle = codex.thread_start(sandbox=Sandbox.full_access).turn("wait for the gate")
        events = []
        for event in handle.stream():
            events.append(event)
            payload = event.payload
            if isinstance(payload, ItemStartedNotification) and isinstance(
                payload.item.root, CommandExecutionThreadItem
            ):
                assert handle.steer("also say steered").turn_id == handle.id
                gate.touch()
    completed = events[-1].payload
    assert isinstance(completed, TurnCompletedNotification)
    assert completed.turn.status.value == "completed"
    assert user_texts(fake_server.requests[1].json())[-1] == "also say steered"
    users = [
        e.payload.item.root
        for e in events
        if e.method == "item/completed" and e.payload.item.root.type == "userMessage"
    ]
    assert [u.content[0].root.text for u in users] == ["wait for the gate", "also say steered"]


def test_exec_threads_resume_through_the_sdk(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("from exec"))
    result = run_cli(
        ["exec", "--skip-git-repo-check", "started by exec"], codex_home=home, cwd=work
    )
    assert result.returncode == 0, result.stderr
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("from the sdk", "r2", "m2"))
    with Codex(sdk_config(home, work)) as codex:
        assert codex.thread_list().data == []  # exec runs are not interactive sources
        (listed,) = codex.thread_list(source_kinds=[ThreadSourceKind.exec]).data
        thread = codex.thread_resume(listed.id)
        assert thread.run("continued in the sdk").final_response == "from the sdk"
    assert user_texts(fake_server.requests[1].json())[-2:] == [
        "started by exec",
        "continued in the sdk",
    ]
