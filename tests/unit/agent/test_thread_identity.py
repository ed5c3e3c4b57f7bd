"""Session and thread ids in rollouts: what session_meta says, and what older files load as."""

from __future__ import annotations

import json
from pathlib import Path

from pycodex.agent.identity import ThreadIdentity
from pycodex.agent.rollout import load_thread

ROOT = "01a2385f-c757-7cc3-8713-71ee774a91bb"
CHILD = "01a2385f-c7be-7e51-895f-c6f4a1be511b"


def write_rollout(path: Path, meta: dict[str, object]) -> Path:
    lines = [
        {"timestamp": "2026-01-01T00:00:00.000Z", "type": "session_meta", "payload": meta},
        {
            "timestamp": "2026-01-01T00:00:01.000Z",
            "type": "response_item",
            "payload": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "hi"}],
            },
        },
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_legacy_rollout_without_session_id_is_its_own_tree(tmp_path: Path) -> None:
    path = write_rollout(tmp_path / "old.jsonl", {"id": ROOT, "cwd": "/", "source": "exec"})
    recorded = load_thread(path)
    assert (recorded.thread_id, recorded.session_id) == (ROOT, ROOT)
    assert not recorded.identity.is_subagent
    assert recorded.identity.history_initialization == "cold_resume"


def test_child_rollout_keeps_the_tree_and_its_parent(tmp_path: Path) -> None:
    spawn = {
        "parent_thread_id": ROOT,
        "depth": 1,
        "agent_path": None,
        "agent_nickname": "Hopper",
        "agent_role": None,
    }
    meta = {
        "session_id": ROOT,
        "id": CHILD,
        "parent_thread_id": ROOT,
        "source": {"subagent": {"thread_spawn": spawn}},
        "thread_source": "subagent",
        "agent_nickname": "Hopper",
    }
    recorded = load_thread(write_rollout(tmp_path / "child.jsonl", meta))
    assert (recorded.thread_id, recorded.session_id) == (CHILD, ROOT)
    identity = recorded.identity
    assert identity.parent_thread_id == ROOT and identity.depth == 1
    assert identity.agent_nickname == "Hopper" and identity.thread_source == "subagent"
    # Written back the same way.
    assert identity.session_source("exec") == {"subagent": {"thread_spawn": spawn}}


def test_child_rollout_without_session_id_falls_back_to_its_own_id(tmp_path: Path) -> None:
    """Upstream mints a fresh session id here when it has no state database; we use the thread
    id, which keeps resuming the same file stable."""
    meta = {"id": CHILD, "source": {"subagent": {"thread_spawn": {"parent_thread_id": ROOT}}}}
    recorded = load_thread(write_rollout(tmp_path / "child.jsonl", meta))
    assert recorded.session_id == CHILD
    assert recorded.identity.parent_thread_id == ROOT and recorded.identity.depth == 1


def test_root_identity_writes_the_frontend_source() -> None:
    assert ThreadIdentity().session_source("exec") == "exec"
