"""Drop-in parity of what a client of `pycodex exec` sees, against upstream Codex 0.169's
observed behaviour (CONTRACTS.md, model_catalog_facts.json): the request body per the model
catalog, the hosted web_search tool, web_search items and the human output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support import sse_builders as sse
from support.cli import run_cli
from support.fake_server import FakeModelServer

BASE = ["exec", "--skip-git-repo-check"]
CACHED_SEARCH = {
    "type": "web_search",
    "external_web_access": False,
    "search_content_types": ["text", "image"],
}


def test_gpt_5_5_request_body_and_header_follow_the_catalog(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    result = run_cli([*BASE, "--color", "never", "-m", "gpt-5.5", "hi"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    body = fake_server.requests[0].json()
    assert body["reasoning"] == {"effort": "medium"}  # the catalog's summary is "none": no key
    assert body["text"] == {"verbosity": "low"}
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["tools"][-1] == CACHED_SEARCH
    # The header says what the request carried.
    assert "\nmodel: gpt-5.5\n" in result.stderr
    assert "\nreasoning effort: medium\nreasoning summaries: none\n" in result.stderr
    assert "warning" not in result.stderr


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ([], CACHED_SEARCH),
        (["-c", 'web_search="cached"'], CACHED_SEARCH),
        (["-c", 'web_search="live"'], {**CACHED_SEARCH, "external_web_access": True}),
        (["-c", 'web_search="disabled"'], None),
        (["-c", "tools.web_search=true"], {**CACHED_SEARCH, "external_web_access": True}),
        (["-c", "tools.web_search=false"], None),
        (["-c", "features.web_search_request=true"],
         {**CACHED_SEARCH, "external_web_access": True}),
    ],
)  # fmt: skip
def test_web_search_tool_per_setting(
    fake_server: FakeModelServer,
    home: Path,
    work: Path,
    setting: list[str],
    expected: dict[str, Any] | None,
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    result = run_cli([*BASE, "--json", "-m", "gpt-5.5", *setting, "hi"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    tools = fake_server.requests[0].json()["tools"]
    searches = [tool for tool in tools if tool.get("type") == "web_search"]
    assert searches == ([] if expected is None else [expected])


def test_unknown_model_gets_web_search_only_when_live(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    """Servers behind an unknown model name rarely run hosted tools: the default does not send
    one; `live`, which a user must ask for, does (upstream's shape, without content types)."""
    for _ in range(2):
        fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    plain = run_cli([*BASE, "--json", "hi"], codex_home=home, cwd=work)
    live = run_cli([*BASE, "--json", "-c", 'web_search="live"', "hi"], codex_home=home, cwd=work)
    assert plain.returncode == 0 and live.returncode == 0
    first, second = (request.json()["tools"] for request in fake_server.requests)
    assert [tool for tool in first if tool.get("type") == "web_search"] == []
    assert second[-1] == {"type": "web_search", "external_web_access": True}


def test_web_search_item_started_carries_the_query(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    search = sse.web_search_call("weather in Paris", id="ws_7")
    events = sse.stream_items([search, sse.message("It is sunny.")])
    fake_server.expect_sse("/v1/responses", events)
    result = run_cli([*BASE, "--json", "-m", "gpt-5.5", "weather?"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    action = {"type": "search", "query": "weather in Paris"}
    item = {"id": "item_0", "type": "web_search", "query": "weather in Paris", "action": action}
    assert result.events()[2:5] == [
        {"type": "item.started", "item": item},
        {"type": "item.completed", "item": item},
        {"type": "item.completed",
         "item": {"id": "item_1", "type": "agent_message", "text": "It is sunny."}},
    ]  # fmt: skip
    assert json.loads(result.stdout.splitlines()[-1])["type"] == "turn.completed"


def test_human_output_of_a_patch_reasoning_and_the_sandbox_line(
    fake_server: FakeModelServer, home: Path, work: Path, tmp_path: Path
) -> None:
    (work / "hello.txt").write_text("hello\nworld\n")
    extra = tmp_path / "extra"
    extra.mkdir()
    patch = (
        "*** Begin Patch\n*** Update File: hello.txt\n@@\n hello\n-world\n+there\n"
        "*** Add File: new.txt\n+fresh\n*** End Patch\n"
    )
    fake_server.expect_sse(
        "/v1/responses",
        sse.stream_items(
            [
                sse.reasoning("Planning the edit."),
                sse.custom_tool_call("apply_patch", patch, call_id="p1"),
            ]
        ),
    )
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("Done."))
    args = [*BASE, "--color", "never", "--full-auto", "--add-dir", str(extra), "edit"]
    result = run_cli(args, codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    err = result.stderr
    assert f"\nsandbox: workspace-write [workdir, /tmp, $TMPDIR, {extra}]\n" in err
    assert "\nuser\nedit\nPlanning the edit.\napply patch\n" in err
    assert "thinking" not in err
    assert (
        "\napply patch\npatch: completed\n"
        f"{work}/hello.txt\n--- a/hello.txt\n+++ b/hello.txt\n@@ -1,2 +1,2 @@\n hello\n"
        "-world\n+there\n"
        f"{work}/new.txt\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+fresh\n"
        "codex\nDone.\n"
    ) in err


def test_human_output_of_a_failed_patch(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    patch = "*** Begin Patch\n*** Update File: missing.txt\n@@\n-a\n+b\n*** End Patch\n"
    fake_server.expect_sse(
        "/v1/responses", sse.tool_calls(sse.custom_tool_call("apply_patch", patch, call_id="p1"))
    )
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("It failed."))
    result = run_cli([*BASE, "--color", "never", "--full-auto", "edit"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    err = result.stderr
    start = err.index("\napply patch\n")
    block = err[start + 1 : err.index("\ncodex\n")].splitlines()
    assert block[:2] == ["apply patch", "patch: failed"]
    assert "missing.txt" in block[2]


def test_sandbox_line_for_each_mode(fake_server: FakeModelServer, home: Path, work: Path) -> None:
    cases = [
        (["-s", "read-only"], "read-only"),
        (["--yolo"], "danger-full-access"),
        (["-s", "workspace-write", "-c", "sandbox_workspace_write.network_access=true",
          "-c", "sandbox_workspace_write.exclude_slash_tmp=true"],
         "workspace-write [workdir, $TMPDIR] (network access enabled)"),
    ]  # fmt: skip
    for args, line in cases:
        fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
        result = run_cli([*BASE, "--color", "never", *args, "hi"], codex_home=home, cwd=work)
        assert result.returncode == 0, result.stderr
        assert f"\nsandbox: {line}\n" in result.stderr


def test_hide_agent_reasoning_hides_it_from_the_human_output(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    events = sse.stream_items([sse.reasoning("Secret plan."), sse.message("Answer.")])
    fake_server.expect_sse("/v1/responses", events)
    fake_server.expect_sse("/v1/responses", events)
    args = [*BASE, "--color", "never", "hi"]
    shown = run_cli(args, codex_home=home, cwd=work)
    hidden = run_cli(
        [*args[:-1], "-c", "hide_agent_reasoning=true", "hi"], codex_home=home, cwd=work
    )
    assert shown.returncode == 0 and hidden.returncode == 0, hidden.stderr
    assert "\nSecret plan.\ncodex\nAnswer.\n" in shown.stderr
    assert "Secret plan." not in hidden.stderr
    assert "\ncodex\nAnswer.\n" in hidden.stderr
