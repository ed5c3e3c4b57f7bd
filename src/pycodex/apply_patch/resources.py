"""Access to the package's data files: the Lark grammar and the model-facing format description."""

from __future__ import annotations

from pathlib import Path

GRAMMAR_FILE = "apply_patch.lark"
TOOL_INSTRUCTIONS_FILE = "tool_instructions.md"


def _read(name: str) -> str:
    return Path(__file__).with_name(name).read_text(encoding="utf-8")


def load_grammar() -> str:
    """The Lark grammar of the patch format, for a freeform (custom) tool definition."""
    return _read(GRAMMAR_FILE)


def load_tool_instructions() -> str:
    """A concise description of the patch format, with an example, written for the model."""
    return _read(TOOL_INSTRUCTIONS_FILE)
