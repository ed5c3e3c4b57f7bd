"""The memory summary in a new thread's first request (context/memory_summary.py)."""

from __future__ import annotations

from pathlib import Path

from pycodex.config import Config
from pycodex.config.memories import MemoriesConfig
from pycodex.context.manager import ContextManager
from pycodex.protocol.items import Message


def config(home: Path, **changes: object) -> Config:
    values: dict[str, object] = {"codex_home": home, "cwd": home, "features": {"memories": True}}
    values.update(changes)
    return Config(**values)  # type: ignore[arg-type]


def first_texts(context: ContextManager) -> list[str]:
    items = context.initial_context_items()
    return [item.text for item in items if isinstance(item, Message)]


def test_the_summary_opens_the_initial_context(tmp_path: Path) -> None:
    (tmp_path / "memories_v2").mkdir()
    (tmp_path / "memories_v2" / "memory_summary.md").write_text("v1\n## User Profile\nBob\n")
    context = ContextManager.from_config(config(tmp_path))
    first, second, _user = context.initial_context_items()
    assert isinstance(first, Message) and first.role == "developer"
    assert first.text.endswith(
        "========= MEMORY_SUMMARY BEGINS =========\nv1\n## User Profile\nBob\n"
        "========= MEMORY_SUMMARY ENDS ========="
    )
    assert f"{tmp_path}/memories_v2/rollout_summaries/" in first.text
    assert isinstance(second, Message) and second.text.startswith("<permissions")


def test_no_summary_message_when_off_unused_or_absent(tmp_path: Path) -> None:
    assert len(first_texts(ContextManager.from_config(config(tmp_path)))) == 2  # no file yet
    (tmp_path / "memories_v2").mkdir()
    (tmp_path / "memories_v2" / "memory_summary.md").write_text("v1\n")
    unused = config(tmp_path, memories=MemoriesConfig(use_memories=False))
    assert len(first_texts(ContextManager.from_config(unused))) == 2
    off = config(tmp_path, features={})
    assert len(first_texts(ContextManager.from_config(off))) == 2
    assert len(first_texts(ContextManager.from_config(config(tmp_path)))) == 3
