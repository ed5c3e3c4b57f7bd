"""The beginnings that mark a user-role message as context the agent injected, not the user's words.

The model reads some context as user messages: the AGENTS.md instructions, the
`<environment_context>` block, a compaction summary. Compaction keeps the user's own recent
messages and the session picker titles a session with its first one, so both must tell the two
apart; they do it with this one list (`is_injected_context`). `context/` and `compaction/` write
their messages with the same constants.

Besides pycodex's own markers, the list holds those of older files and of upstream Codex, whose
session files live in the same `$CODEX_HOME/sessions` (skill bodies, `!` shell commands,
interruption notes, sub-agent notifications).
"""

from __future__ import annotations

ENVIRONMENT_CONTEXT_TAG = "<environment_context>"
AGENTS_MD_PREFIX = "# AGENTS.md instructions for "
COMPACTION_SUMMARY_TAG = "<compaction_summary>"

INJECTED_CONTEXT_PREFIXES = (
    ENVIRONMENT_CONTEXT_TAG,
    AGENTS_MD_PREFIX,
    COMPACTION_SUMMARY_TAG,
    # Older session files and upstream Codex.
    "<user_instructions>",
    "<skill>",
    "<user_shell_command>",
    "<turn_aborted>",
    "<subagent_notification>",
)


def is_injected_context(text: str) -> bool:
    """True when `text` (one text part of a user message) is context the agent injected."""
    return text.lstrip().startswith(INJECTED_CONTEXT_PREFIXES)
