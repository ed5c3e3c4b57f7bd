"""An old conversation as stage one sees it: labelled rows of JSON, secrets redacted.

Every `response_item` record of the session file becomes one row, `[label]` on its own line and
the item as JSON on the next:

- `[human user]`: what the person typed (and their answers to `request_user_input`);
- `[assistant final]` / `[assistant commentary]`: the assistant's messages;
- `[other agent]`: sub-agent notifications;
- `[harness context]`: the `<environment_context>` and other context pycodex injected;
- `[tool]`: tool calls and their outputs (outputs cut to `TOOL_OUTPUT_TOKENS`).

Dropped: developer messages (pycodex's own instructions), reasoning, the AGENTS.md and `<skill>`
parts of user messages; images become `[image omitted]`. All records are read, including those
a compaction later replaced: they are the best evidence of what happened.

When the rows exceed the budget, the most useful kinds are kept first (what the user said, then
the final answers, ... tool traffic last), newest first within a kind, and the kept rows are
shown in their original order with `[... items omitted ...]` where rows were left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pycodex._records import dataclass
from pycodex.context.agents_md import HEADER_PREFIX as AGENTS_MD_PREFIX
from pycodex.execution.truncate import BYTES_PER_TOKEN, truncate_middle
from pycodex.memories.redact import redact_secrets

OMITTED = "[... items omitted ...]\n"
TOOL_OUTPUT_TOKENS = 2_000
MAX_ROW_TOKENS = 2_500
# Kinds in the order they are kept when the budget is short.
TIERS = (
    "human user",
    "assistant final",
    "other agent",
    "assistant commentary",
    "harness context",
    "tool",
)
_CONTEXT_TAGS = (
    "<environment_context>",
    "<permissions instructions>",
    "<user_instructions>",
    "<collaboration_mode>",
    "<turn_aborted>",
)
_OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output", "tool_search_output"})
_DROPPED_TYPES = frozenset({"reasoning", "compaction", "compaction_summary", "ghost_snapshot"})


@dataclass(frozen=True)
class Row:
    tier: str
    text: str


def response_items(path: Path) -> Iterator[dict[str, Any]]:
    """Every `response_item` payload of a session file, skipping lines that do not parse."""
    with path.open("rb") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("type") == "response_item":
                payload = record.get("payload")
                if isinstance(payload, dict):
                    yield payload


def render_conversation(items: Iterator[dict[str, Any]], budget_tokens: int) -> str:
    rows = [row for item in items if (row := _row(item)) is not None]
    return _fit(rows, budget_tokens * BYTES_PER_TOKEN)


def _row(item: dict[str, Any]) -> Row | None:
    kind = item.get("type")
    if kind in _DROPPED_TYPES:
        return None
    if kind == "message":
        return _message_row(item)
    cleaned = _redacted(_without_encrypted(item))
    text = json.dumps(cleaned, ensure_ascii=False)
    if kind in _OUTPUT_TYPES:
        text = truncate_middle(text, TOOL_OUTPUT_TOKENS).text
    return _finish("tool", text)


def _message_row(item: dict[str, Any]) -> Row | None:
    role = item.get("role")
    if role not in ("user", "assistant"):
        return None  # developer and system messages are pycodex's own instructions
    content = [_part(part) for part in item.get("content") or [] if isinstance(part, dict)]
    kept = [part for part in content if part is not None]
    if not kept:
        return None
    message = {"type": "message", "role": role, "content": kept}
    if role == "assistant":
        tier = "assistant commentary" if item.get("phase") == "commentary" else "assistant final"
    else:
        tier = _user_tier(kept)
    return _finish(tier, json.dumps(_redacted(message), ensure_ascii=False))


def _part(part: dict[str, Any]) -> dict[str, Any] | None:
    kind = part.get("type")
    if kind in ("input_image", "image"):
        return {"type": "input_text", "text": "[image omitted]"}
    if kind in ("input_audio", "audio"):
        return {"type": "input_text", "text": "[audio omitted]"}
    text = part.get("text")
    if not isinstance(text, str):
        return None
    stripped = text.strip()
    if stripped.startswith(AGENTS_MD_PREFIX) or (
        stripped.startswith("<skill>") and stripped.endswith("</skill>")
    ):
        return None
    return {"type": kind or "input_text", "text": text}


def _user_tier(content: list[dict[str, Any]]) -> str:
    texts = [str(part.get("text", "")).lstrip() for part in content]
    if any(text.startswith("<subagent_notification>") for text in texts):
        return "other agent"
    if all(text.startswith(_CONTEXT_TAGS) for text in texts):
        return "harness context"
    return "human user"


def _finish(tier: str, text: str) -> Row:
    text = redact_secrets(text)  # again on the JSON: a key split across fields, say
    return Row(tier, truncate_middle(text, MAX_ROW_TOKENS).text)


def _without_encrypted(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "encrypted_content"}


def _redacted(value: Any) -> Any:
    """Redact every string inside `value` before it is JSON-escaped (escaping would hide
    `"password": "..."` inside a string from the patterns)."""
    if isinstance(value, str):
        return redact_secrets(value)
    if isinstance(value, list):
        return [_redacted(inner) for inner in value]
    if isinstance(value, dict):
        return {key: _redacted(inner) for key, inner in value.items()}
    return value


def _fit(rows: list[Row], budget_bytes: int) -> str:
    texts = [f"[{row.tier}]\n{row.text}\n" for row in rows]
    sizes = [len(text.encode("utf-8")) for text in texts]
    kept = [False] * len(rows)
    remaining = budget_bytes
    for tier in TIERS:
        for index in range(len(rows) - 1, -1, -1):
            if rows[index].tier == tier and sizes[index] + len(OMITTED) <= remaining:
                kept[index] = True
                remaining -= sizes[index] + len(OMITTED)
    parts: list[str] = []
    for index, text in enumerate(texts):
        if kept[index]:
            parts.append(text)
        elif not parts or parts[-1] is not OMITTED:
            parts.append(OMITTED)
    return "".join(parts)
