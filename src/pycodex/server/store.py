"""Stored responses: `previous_response_id`, `GET`/`DELETE /v1/responses/{id}`, `input_items`.

Each stored response keeps only what is new in it: the input items of its own request, its output
items, the rest of its response object, and the id of the response it continued (`parent_id`).
A conversation is rebuilt on read by following parents back to the start (one query in SQLite),
so storing a turn costs the size of that turn, not of the whole conversation so far. A
compaction response *restarts* its conversation: what continues from it starts from its output
(the signed summary) alone, so the walk stops there.

Limits (`StoreLimits`): responses older than `max_age_s` are gone, and when the stored bytes
pass `max_bytes` the oldest responses go first. A conversation whose older responses went (or
were deleted) cannot be continued: `BrokenChain` names the missing one.

Two stores: `MemoryResponseStore` (one process, lost on exit) and `SqliteResponseStore`
(`sqlite_store`: a file shared safely by several server processes).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import OrderedDict
from typing import Any, Protocol

from pycodex._records import dataclass

JsonItem = dict[str, Any]

DEFAULT_MAX_AGE_S = 30 * 24 * 3600.0
DEFAULT_MAX_BYTES = 1024 * 1024 * 1024
_ID_PREFIXES = {
    "message": "msg",
    "function_call": "fc",
    "function_call_output": "fco",
    "custom_tool_call": "ctc",
    "custom_tool_call_output": "ctco",
    "reasoning": "rs",
}


@dataclass(frozen=True, slots=True)
class StoreLimits:
    max_age_s: float = DEFAULT_MAX_AGE_S
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass(frozen=True, slots=True)
class StoredResponse:
    response_id: str
    parent_id: str | None
    """The `previous_response_id` this response continued, if any."""
    created_at: float
    input_items: list[JsonItem]
    """This request's own input, every item with an `id`."""
    response: dict[str, Any]
    """The final response object, `output` included."""
    restarts: bool = False
    """A compaction: a conversation continued from here starts from its output alone."""

    @property
    def output_items(self) -> list[JsonItem]:
        output = self.response.get("output")
        return output if isinstance(output, list) else []


class BrokenChain(Exception):
    """An earlier response of the conversation expired or was deleted."""

    def __init__(self, missing_id: str) -> None:
        super().__init__(missing_id)
        self.missing_id = missing_id


class ResponseStore(Protocol):
    async def get(self, response_id: str) -> StoredResponse | None: ...

    async def conversation(self, response_id: str) -> list[JsonItem] | None:
        """What a request continuing `response_id` puts before its input; None if unknown.

        Raises `BrokenChain` when an earlier response it needs is gone.
        """
        ...

    async def put(self, response: StoredResponse) -> None: ...

    async def delete(self, response_id: str) -> bool: ...

    async def close(self) -> None: ...


def with_item_ids(items: list[JsonItem]) -> list[JsonItem]:
    """The items as the API lists them: each with an `id` (the list API pages by id), messages
    typed, with their text as content parts. The request's own dicts are never changed."""
    return [_canonical(item) for item in items]


def _canonical(item: JsonItem) -> JsonItem:
    if "type" not in item and "role" in item:
        item = {"type": "message", **item}
    if item.get("type") == "message" and isinstance(item.get("content"), str):
        part = "output_text" if item.get("role") == "assistant" else "input_text"
        item = {**item, "content": [{"type": part, "text": item["content"]}]}
    if not item.get("id"):
        item = {**item, "id": new_item_id(item)}
    return item


def new_item_id(item: JsonItem) -> str:
    prefix = _ID_PREFIXES.get(str(item.get("type", "message")), "item")
    return f"{prefix}_{uuid.uuid4().hex}"


@dataclass(frozen=True, slots=True)
class EncodedResponse:
    """A stored response as JSON texts: what both stores keep, and how big it is."""

    response_id: str
    parent_id: str | None
    created_at: float
    restarts: bool
    input_json: str
    output_json: str
    envelope_json: str
    """The response object without `output`."""

    @property
    def size(self) -> int:
        return len(self.input_json) + len(self.output_json) + len(self.envelope_json)

    @classmethod
    def of(cls, response: StoredResponse) -> EncodedResponse:
        envelope = {k: v for k, v in response.response.items() if k != "output"}
        return cls(
            response.response_id,
            response.parent_id,
            response.created_at,
            response.restarts,
            _dumps(response.input_items),
            _dumps(response.output_items),
            _dumps(envelope),
        )

    def decode(self) -> StoredResponse:
        response = json.loads(self.envelope_json)
        response["output"] = json.loads(self.output_json)
        return StoredResponse(
            self.response_id,
            self.parent_id,
            self.created_at,
            json.loads(self.input_json),
            response,
            self.restarts,
        )


def fold_conversation(links: list[tuple[bool, str, str]]) -> list[JsonItem]:
    """The conversation from `(restarts, input_json, output_json)` links, oldest first."""
    items: list[JsonItem] = []
    for restarts, input_json, output_json in links:
        if restarts:
            items = []
        else:
            items += json.loads(input_json)
        items += json.loads(output_json)
    return items


class MemoryResponseStore:
    """Responses of this process only, oldest evicted first; lost when the server stops."""

    def __init__(self, limits: StoreLimits | None = None) -> None:
        self._limits = limits or StoreLimits()
        self._entries: OrderedDict[str, EncodedResponse] = OrderedDict()
        self._bytes = 0

    async def get(self, response_id: str) -> StoredResponse | None:
        entry = self._live(response_id)
        return None if entry is None else entry.decode()

    async def conversation(self, response_id: str) -> list[JsonItem] | None:
        entry = self._live(response_id)
        if entry is None:
            return None
        links = [entry]
        while not links[-1].restarts and links[-1].parent_id is not None:
            parent = self._live(links[-1].parent_id)
            if parent is None:
                raise BrokenChain(links[-1].parent_id)
            links.append(parent)
        return fold_conversation([(e.restarts, e.input_json, e.output_json) for e in links[::-1]])

    async def put(self, response: StoredResponse) -> None:
        entry = EncodedResponse.of(response)
        self._entries[entry.response_id] = entry
        self._bytes += entry.size
        self._evict()

    async def delete(self, response_id: str) -> bool:
        entry = self._entries.pop(response_id, None)
        if entry is not None:
            self._bytes -= entry.size
        return entry is not None

    async def close(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def _live(self, response_id: str) -> EncodedResponse | None:
        self._evict()
        return self._entries.get(response_id)

    def _evict(self) -> None:
        cutoff = time.time() - self._limits.max_age_s
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if oldest.created_at >= cutoff and self._bytes <= self._limits.max_bytes:
                return
            self._entries.popitem(last=False)
            self._bytes -= oldest.size


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
