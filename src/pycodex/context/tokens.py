"""A cheap token estimate for budgets and reports, not for billing.

Four bytes of UTF-8 per token is the usual rule of thumb for English prose and code with the
OpenAI tokenizers; it overestimates a little for plain English and underestimates for dense
non-Latin text, which is acceptable for deciding when to compact or what to show a user.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

BYTES_PER_TOKEN = 4


def approx_token_count(text: str) -> int:
    return (len(text.encode("utf-8")) + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN


def approx_items_token_count(items: Iterable[dict[str, Any]]) -> int:
    """The estimate for wire items, counted on their compact JSON serialization."""
    return sum(approx_token_count(json.dumps(item, separators=(",", ":"))) for item in items)
