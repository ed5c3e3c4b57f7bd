"""The app-server's wire, line by line: errors, ordering, overload, and a clean stdout."""

from __future__ import annotations

import json
from pathlib import Path

from support import sse_builders as sse
from support.app_server import RawAppServer, check_notification, turn_completed
from support.fake_server import FakeModelServer


def test_malformed_lines_get_errors_and_never_stop_the_server(home: Path, work: Path) -> None:
    with RawAppServer(home, work) as server:
        server.send_raw(b"this is not json\n")
        parse_error = server.next()
        assert parse_error["id"] is None and parse_error["error"]["code"] == -32700
        server.send_raw(b"[1, 2, 3]\n")
        assert server.next()["error"]["code"] == -32600
        server.send({"id": "early", "method": "thread/start", "params": {}})
        early = server.next()
        assert early["id"] == "early" and early["error"]["code"] == -32600
        assert "initialize" in early["error"]["message"]
        response = server.initialize()
        assert response["result"]["userAgent"].startswith("raw_test/0.169.0 (pycodex ")
        unknown = server.call("no/such/method")
        assert unknown["error"]["code"] == -32601
        bad = server.call("thread/start", {"approvalPolicy": "sometimes"})
        assert bad["error"]["code"] == -32602 and "approvalPolicy" in bad["error"]["message"]
        bad_params = server.call("thread/read", {"threadId": 7})
        assert bad_params["error"]["code"] == -32602
        missing = server.call("thread/resume", {"threadId": "01a00000-0000-7000-8000-000000000000"})
        assert missing["error"] == {
            "code": -32600,
            "message": "no rollout found for thread id 01a00000-0000-7000-8000-000000000000",
        }
        again = server.call("initialize", {})
        assert again["error"]["code"] == -32600
        assert server.close() == 0
    assert all(json.loads(line) for line in server.raw_lines)


def test_a_plain_turn_in_upstreams_order(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("two words"))
    with RawAppServer(home, work) as server:
        server.initialize()
        started = server.call("thread/start", {"approvalPolicy": "never"})
        thread_id = started["result"]["thread"]["id"]
        assert started["result"]["thread"]["status"] == {"type": "idle"}
        turn = server.call(
            "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "hi"}]}
        )
        turn_id = turn["result"]["turn"]["id"]
        messages = server.until(turn_completed(turn_id))
        assert server.close() == 0
    notifications = [m for m in messages if "method" in m]
    for message in notifications:
        check_notification(message)
        assert message["params"]["threadId"] == thread_id
    methods = [(m["method"], m["params"].get("item", {}).get("type")) for m in notifications]
    assert methods == [
        ("thread/status/changed", None),
        ("turn/started", None),
        ("item/started", "userMessage"),
        ("item/completed", "userMessage"),
        ("item/started", "agentMessage"),
        ("item/agentMessage/delta", None),
        ("item/agentMessage/delta", None),
        ("item/completed", "agentMessage"),
        ("thread/tokenUsage/updated", None),
        ("thread/status/changed", None),
        ("turn/completed", None),
    ]
    assert [n["params"]["status"]["type"] for n in notifications if "status" in n["params"]] == [
        "active",
        "idle",
    ]
    completed = notifications[-1]["params"]["turn"]
    assert completed["status"] == "completed" and completed["itemsView"] == "summary"
    assert [item["text"] for item in completed["items"]] == ["two words"]


def test_overload_is_answered_with_server_busy_and_every_request_once(
    home: Path, work: Path
) -> None:
    with RawAppServer(home, work, "--max-queued-requests", "2") as server:
        server.initialize()
        burst = [
            json.dumps({"id": f"burst-{n}", "method": "model/list", "params": {}})
            for n in range(40)
        ]
        server.send_raw(("\n".join(burst) + "\n").encode())
        answers = [server.next() for _ in burst]
        assert server.close() == 0
    assert sorted(a["id"] for a in answers) == sorted(f"burst-{n}" for n in range(40))
    busy = [a for a in answers if "error" in a]
    assert busy, "a burst over the queue bound must be refused in part"
    for answer in busy:
        assert answer["error"]["code"] == -32001
        assert answer["error"]["data"] == "server_overloaded"
    assert any("result" in a for a in answers)


def test_config_before_the_command_applies(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    before = ("--config", 'model="configured-by-flag"', "-c", "model_reasoning_summary=none")
    with RawAppServer(home, work, before=before) as server:
        server.initialize()
        thread = server.call("thread/start", {})["result"]
        assert thread["model"] == "configured-by-flag"
        turn = server.call(
            "turn/start",
            {"threadId": thread["thread"]["id"], "input": [{"type": "text", "text": "x"}]},
        )
        server.until(turn_completed(turn["result"]["turn"]["id"]))
        assert server.close() == 0
    assert fake_server.requests[0].json()["model"] == "configured-by-flag"


def test_compaction_runs_as_a_turn_of_its_own(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("long answer"))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("SUMMARY of it", "r2", "m2"))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("after", "r3", "m3"))
    with RawAppServer(home, work) as server:
        server.initialize()
        thread_id = server.call("thread/start", {})["result"]["thread"]["id"]
        text = [{"type": "text", "text": "talk a lot"}]
        first = server.call("turn/start", {"threadId": thread_id, "input": text})
        server.until(turn_completed(first["result"]["turn"]["id"]))
        assert server.call("thread/compact/start", {"threadId": thread_id})["result"] == {}
        messages = server.until(lambda m: m.get("method") == "turn/completed")
        again = server.call("turn/start", {"threadId": thread_id, "input": text})
        done = server.until(turn_completed(again["result"]["turn"]["id"]))
        assert server.close() == 0
    for message in messages:
        check_notification(message)
    described = [(m["method"], m["params"].get("item", {}).get("type")) for m in messages]
    assert described == [
        ("thread/status/changed", None),
        ("turn/started", None),
        ("item/started", "contextCompaction"),
        ("item/completed", "contextCompaction"),
        ("thread/compacted", None),
        ("thread/status/changed", None),
        ("turn/completed", None),
    ]
    assert done[-1]["params"]["turn"]["status"] == "completed"
    assert "SUMMARY of it" in str(fake_server.requests[2].json()["input"])


def test_an_ephemeral_thread_forks_into_a_recorded_one(
    fake_server: FakeModelServer, home: Path, work: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("in memory"))
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("in the fork", "r2", "m2"))
    with RawAppServer(home, work) as server:
        server.initialize()
        source = server.call("thread/start", {"ephemeral": True})["result"]["thread"]
        assert source["ephemeral"] and source["path"] is None
        text = [{"type": "text", "text": "EPHEMERAL question"}]
        turn = server.call("turn/start", {"threadId": source["id"], "input": text})
        server.until(turn_completed(turn["result"]["turn"]["id"]))
        fork = server.call("thread/fork", {"threadId": source["id"]})["result"]["thread"]
        assert fork["forkedFromId"] == source["id"] and not fork["ephemeral"]
        assert [t["status"] for t in fork["turns"]] == ["completed"]
        again = [{"type": "text", "text": "FORK question"}]
        turn = server.call("turn/start", {"threadId": fork["id"], "input": again})
        server.until(turn_completed(turn["result"]["turn"]["id"]))
        assert server.close() == 0
    body = str(fake_server.requests[1].json()["input"])
    assert "EPHEMERAL question" in body and "in memory" in body and "FORK question" in body
    assert Path(fork["path"]).is_file()
