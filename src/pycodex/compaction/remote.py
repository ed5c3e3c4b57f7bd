"""Remote compaction (v2): the provider compacts, returning one opaque `context_compaction` item.

The request is the prompt input plus a trailing `{"type": "context_compaction"}` item; the response
must hold exactly one `context_compaction` output item carrying `encrypted_content`. The new
history keeps the input's user, developer and system messages and appends that item.
"""

from __future__ import annotations

from collections.abc import Sequence

from pycodex.protocol.errors import ModelError
from pycodex.protocol.items import Message, ResponseItem, UnknownItem, parse_item

COMPACTION_TYPE = "context_compaction"


class RemoteCompactionError(ModelError):
    """The provider's compaction answer was not usable; local compaction takes over."""


def compaction_request_item() -> ResponseItem:
    return parse_item({"type": COMPACTION_TYPE})


def compaction_item(outputs: Sequence[ResponseItem]) -> ResponseItem:
    """The single usable compaction item of a response, or a precise error."""
    found = [item for item in outputs if item.type == COMPACTION_TYPE]
    if not found:
        raise RemoteCompactionError("remote compaction returned no context_compaction item")
    if len(found) > 1:
        raise RemoteCompactionError(
            f"remote compaction returned {len(found)} context_compaction items; expected one"
        )
    item = found[0]
    content = item.extra.get("encrypted_content") if isinstance(item, UnknownItem) else None
    if not isinstance(content, str) or not content:
        raise RemoteCompactionError("remote compaction item has no encrypted_content")
    return item


def remote_history(prompt_input: Sequence[ResponseItem], item: ResponseItem) -> list[ResponseItem]:
    kept = [
        entry
        for entry in prompt_input
        if isinstance(entry, Message) and entry.role in ("user", "developer", "system")
    ]
    return [*kept, item]
