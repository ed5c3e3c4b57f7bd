"""The memory pipeline's prompt files (our own wording; see docs/memories.md)."""

from __future__ import annotations

import functools
from pathlib import Path

_HERE = Path(__file__).parent


@functools.cache
def read_memory_prompt(name: str) -> str:
    """The text of `prompts/<name>` without its trailing newline."""
    return (_HERE / name).read_text(encoding="utf-8").rstrip("\n")
