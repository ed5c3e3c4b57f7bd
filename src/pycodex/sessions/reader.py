"""Reading a rollout file back: one linear fold over its lines.

`read_rollout(path)` turns a session file into a RolloutHistory: the session_meta, the model-visible
history (response items, with `compacted` records replacing it), turn contexts, events, and a
list of warnings for everything it had to skip. It never raises on content, only on I/O.

What it tolerates, and how it stays linear:

- Invalid UTF-8 is decoded with U+FFFD replacement (a warning names the line).
- Blank lines are skipped; `\\r\\n` endings are fine (JSON allows trailing whitespace).
- The fast path is one `json.loads` per line. Only when a line fails does the slow path run: if the
  line opens more braces than it closes, following lines are accumulated (brace depth counted
  outside strings; JSON strings cannot span lines) until the depth returns to zero, and the span is
  parsed once. A line starting with `{` in column 0 ends the span early, because that is where the
  next compact record begins, so a torn record never swallows the good lines after it. A span that
  does not parse is skipped up to that next record with one warning. Every line is looked at at
  most twice and accumulation is capped, so the cost stays linear.
- A truncated last line (a crash mid-write) is ignored with a warning.
- Unknown record types, later session_meta lines and records with a non-object payload go to
  `other_records`; unknown fields inside payloads are kept as they are.
- At the end, tool calls whose output never arrived (the process died mid-call) and outputs whose
  call is missing are removed from `history`, so the history can be sent to a model again; their
  call ids are listed in `dropped_call_ids`.

A `compacted` record without `replacement_history` (local summary compaction) leaves `history`
untouched; the payload is in `compactions` and the compaction package rebuilds from it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pycodex._records import dataclass, field

JsonObject = dict[str, Any]

# Upper bound of characters gathered for one pretty-printed record before giving up on it.
MAX_MULTILINE_RECORD_CHARS = 32 * 1024 * 1024
# A garbage file must not turn into millions of warning strings; the rest are only counted.
MAX_WARNINGS = 100

_CALL_TYPES = frozenset({"function_call", "custom_tool_call", "local_shell_call"})
_OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output"})
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


@dataclass
class RolloutHistory:
    """Everything a resume needs from a rollout file."""

    session_meta: JsonObject | None = None
    history: list[JsonObject] = field(default_factory=list)
    turn_contexts: list[JsonObject] = field(default_factory=list)
    events: list[JsonObject] = field(default_factory=list)
    compactions: list[JsonObject] = field(default_factory=list)
    other_records: list[JsonObject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    suppressed_warnings: int = 0
    dropped_call_ids: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        """Add a warning, or only count it once MAX_WARNINGS are listed."""
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)
        else:
            self.suppressed_warnings += 1

    @property
    def thread_id(self) -> str | None:
        """The `id` of the session_meta, when there is one."""
        value = self.session_meta.get("id") if self.session_meta else None
        return value if isinstance(value, str) else None


def read_rollout(path: Path) -> RolloutHistory:
    """Read and fold a rollout file. Raises OSError only."""
    return parse_rollout(path.read_bytes())


def parse_rollout(data: bytes) -> RolloutHistory:
    """Fold the bytes of a rollout file into a RolloutHistory."""
    result = RolloutHistory()
    # Splitting bytes and decoding line by line keeps ASCII lines compact in memory even when a
    # few lines hold non-ASCII text; decoding the whole file at once widens every line.
    lines = data.split(b"\n")
    last_content = _last_content_index(lines)
    loads = json.loads
    resume_at = 0
    for index, line in enumerate(lines):
        if index < resume_at or not line or line.isspace():
            continue
        try:
            record = loads(line.decode())
        except ValueError:  # includes UnicodeDecodeError
            resume_at = _recover(lines, index, last_content, result)
            continue
        _fold(result, record, index + 1)
    _drop_unpaired_calls(result)
    if result.suppressed_warnings:
        result.warnings.append(f"... and {result.suppressed_warnings} more warnings")
    return result


def _fold(result: RolloutHistory, record: Any, line_no: int) -> None:
    if not isinstance(record, dict):
        result.warn(f"line {line_no}: not a JSON object, skipped")
        return
    payload = record.get("payload")
    if not isinstance(payload, dict):
        result.other_records.append(record)
        return
    record_type = record.get("type")
    if record_type == "response_item":
        result.history.append(payload)
    elif record_type == "event_msg":
        result.events.append(payload)
    elif record_type == "turn_context":
        result.turn_contexts.append(payload)
    elif record_type == "compacted":
        result.compactions.append(payload)
        replacement = payload.get("replacement_history")
        if isinstance(replacement, list):
            result.history = [item for item in replacement if isinstance(item, dict)]
    elif record_type == "session_meta" and result.session_meta is None:
        result.session_meta = payload
    else:
        result.other_records.append(record)


def _recover(lines: list[bytes], start: int, last_content: int, result: RolloutHistory) -> int:
    """Handle a line that failed to parse; return the index of the next line to read."""
    first = _decode(lines[start], start, result)
    if "\ufffd" in first:  # perhaps only its UTF-8 was broken
        record = _try_loads(first)
        if record is not None:
            _fold(result, record, start + 1)
            return start + 1
    end = start + 1
    depth = _brace_depth(first)
    if depth > 0 and first.lstrip().startswith("{"):
        parts = [first]
        size = len(first)
        while end < len(lines) and size <= MAX_MULTILINE_RECORD_CHARS:
            if lines[end].startswith(b"{"):
                break
            line = _decode(lines[end], end, result)
            parts.append(line)
            size += len(line)
            depth += _brace_depth(line)
            end += 1
            if depth <= 0:
                record = _try_loads("\n".join(parts))
                if record is not None:
                    _fold(result, record, start + 1)
                    return end
                break
    # Whatever failed, the next record starts at the next line opening in column 0; skipping to
    # it reports the broken span once instead of once per inner line.
    while end < len(lines) and not lines[end].startswith(b"{"):
        end += 1
    result.warn(_skip_warning(start, end, last_content, lines))
    return end


def _decode(line: bytes, index: int, result: RolloutHistory) -> str:
    try:
        return line.decode()
    except UnicodeDecodeError as exc:
        result.warn(f"line {index + 1}: invalid UTF-8 at byte {exc.start}, replaced")
        return line.decode("utf-8", "replace")


def _skip_warning(start: int, end: int, last_content: int, lines: list[bytes]) -> str:
    last = end - 1
    while last > start and (not lines[last] or lines[last].isspace()):
        last -= 1
    if last >= last_content:
        return f"line {start + 1}: truncated last record ignored"
    if last == start:
        return f"line {start + 1}: invalid JSON, skipped"
    return f"lines {start + 1}-{last + 1}: invalid JSON, skipped"


def _try_loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _brace_depth(line: str) -> int:
    bare = _JSON_STRING.sub("", line) if '"' in line else line
    return bare.count("{") - bare.count("}")


def _last_content_index(lines: list[bytes]) -> int:
    index = len(lines) - 1
    while index >= 0 and (not lines[index] or lines[index].isspace()):
        index -= 1
    return index


def _drop_unpaired_calls(result: RolloutHistory) -> None:
    """Remove calls without outputs and outputs without calls; the API rejects either."""
    calls: set[str] = set()
    outputs: set[str] = set()
    for item in result.history:
        kind = item.get("type")
        call_id = item.get("call_id")
        if isinstance(call_id, str):
            if kind in _CALL_TYPES:
                calls.add(call_id)
            elif kind in _OUTPUT_TYPES:
                outputs.add(call_id)
    if calls == outputs:
        return
    kept: list[JsonObject] = []
    for item in result.history:
        kind = item.get("type")
        call_id = item.get("call_id")
        if kind in _CALL_TYPES and isinstance(call_id, str) and call_id not in outputs:
            result.dropped_call_ids.append(call_id)
            result.warn(f"dropped {kind} {call_id}: its output was never recorded")
        elif kind in _OUTPUT_TYPES and isinstance(call_id, str) and call_id not in calls:
            result.dropped_call_ids.append(call_id)
            result.warn(f"dropped {kind} {call_id}: its call is not in the history")
        else:
            kept.append(item)
    result.history = kept
