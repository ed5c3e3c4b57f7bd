"""`pycodex exec --json` and the retries a user waits for (issue 15 items 2-3, issue 14 item 11).

Upstream Codex 0.169 (CONTRACTS.md section 5): a 429 with Retry-After then success shows one
`Reconnecting... 1/5 (exceeded retry limit, last status: 429 Too Many Requests)`; a persistent
429 makes 6 requests, shows 5 of them and fails with that message, exit 1. pycodex also retries a
429 without Retry-After (upstream fails at once: docs/exec.md), and ends the same way.
"""

from __future__ import annotations

from pathlib import Path

from support import sse_builders as sse
from support.cli import run_cli
from support.fake_server import FakeModelServer

# Upstream's default of 5 visible retries (the shared test config sets 2 to keep tests short).
BASE = [
    "exec",
    "--skip-git-repo-check",
    "--json",
    "-c",
    "model_providers.fake.stream_max_retries=5",
]
LIMIT = "exceeded retry limit, last status: 429 Too Many Requests"
PATH = "/v1/responses"


def test_a_429_with_retry_after_then_success_shows_one_reconnect(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_error(PATH, 429, "slow down", headers={"retry-after": "0.01"})
    fake_server.expect_sse(PATH, sse.assistant_reply("made it"))
    result = run_cli([*BASE, "hi"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    events = result.events()
    assert [e["type"] for e in events] == [
        "thread.started", "turn.started", "error", "item.completed", "turn.completed",
    ]  # fmt: skip
    assert events[2] == {"type": "error", "message": f"Reconnecting... 1/5 ({LIMIT})"}
    assert events[3]["item"]["text"] == "made it"


def test_a_persistent_429_makes_six_requests_shows_five_and_fails(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    for _ in range(6):
        fake_server.expect_error(PATH, 429, "slow down", headers={"retry-after": "0.001"})
    result = run_cli([*BASE, "hi"], codex_home=home, cwd=work)
    assert result.returncode == 1
    assert len(fake_server.requests) == 6
    assert result.events()[2:] == [
        *({"type": "error", "message": f"Reconnecting... {n}/5 ({LIMIT})"} for n in range(1, 6)),
        {"type": "error", "message": LIMIT},
        {"type": "turn.failed", "error": {"message": LIMIT}},
    ]


def test_a_429_without_retry_after_is_retried_as_the_body_asks_then_fails_like_upstream(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    hint = {"error": {"message": "Rate limit reached. Please try again in 5ms."}}
    for _ in range(6):
        fake_server.expect_error(PATH, 429, hint)
    result = run_cli([*BASE, "hi"], codex_home=home, cwd=work)
    assert result.returncode == 1
    assert len(fake_server.requests) == 6
    events = result.events()
    assert [e["message"] for e in events if e["type"] == "error"][:5] == [
        f"Reconnecting... {n}/5 ({LIMIT})" for n in range(1, 6)
    ]
    assert events[-1] == {"type": "turn.failed", "error": {"message": LIMIT}}


def test_http_and_stream_retries_share_one_counter(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_error(PATH, 429, "slow down", headers={"retry-after": "0"})
    fake_server.expect_sse(PATH, [sse.response_created(), sse.failed("server_error", "overloaded")])
    fake_server.expect_sse(PATH, sse.assistant_reply("third time"))
    result = run_cli([*BASE, "hi"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    assert [e["message"] for e in result.events() if e["type"] == "error"] == [
        f"Reconnecting... 1/5 ({LIMIT})",
        "Reconnecting... 2/5 (stream disconnected before completion: overloaded)",
    ]


def test_a_malformed_event_is_skipped_with_a_warning_and_the_turn_completes(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    broken = {"type": "function_call", "name": "exec_command", "arguments": "{}"}  # no call_id
    fake_server.expect_sse(
        PATH,
        [
            sse.response_created(),
            sse.output_item_done(broken),
            b'event: response.output_text.delta\ndata: {"delta": \n\n',
            sse.output_item_done(sse.message("answer anyway")),
            sse.completed(),
        ],
    )
    result = run_cli([*BASE, "hi"], codex_home=home, cwd=work)
    assert result.returncode == 0, result.stderr
    items = [e["item"] for e in result.events() if e["type"] == "item.completed"]
    assert [item["type"] for item in items] == ["error", "error", "agent_message"]
    assert items[0]["message"].startswith("skipped a malformed response.output_item.done event")
    assert "call_id" in items[0]["message"]
    assert items[1]["message"].startswith(
        "skipped a malformed 'response.output_text.delta' event from the model server"
    )
    assert items[2]["text"] == "answer anyway"
    assert result.events()[-1]["type"] == "turn.completed"
