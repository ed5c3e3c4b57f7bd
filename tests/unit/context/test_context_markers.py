"""The injected-context markers: what context/ and compaction/ write is what readers recognise."""

from __future__ import annotations

from context_fixtures import FixtureRepo

from pycodex.compaction.history import is_real_user_message, summary_message
from pycodex.context.manager import ContextManager
from pycodex.protocol.context_markers import is_injected_context
from pycodex.protocol.items import InputText, Message, user_message


def test_every_user_message_the_agent_writes_is_recognised_as_injected(
    fixture_repo: FixtureRepo,
) -> None:
    manager = ContextManager.from_config(fixture_repo.config())
    written = [*manager.initial_context_items(), summary_message("We fixed the parser.")]
    user_texts = [
        part.text
        for item in written
        if isinstance(item, Message) and item.role == "user"
        for part in item.content
        if isinstance(part, InputText)
    ]
    assert len(user_texts) == 3  # AGENTS.md instructions, environment context, summary
    assert all(is_injected_context(text) for text in user_texts)
    assert not any(is_real_user_message(item) for item in written)


def test_what_the_user_types_is_real() -> None:
    for text in ("fix the bug", "  # AGENTS.md is missing a section", "<environment> matters"):
        assert not is_injected_context(text)
        assert is_real_user_message(user_message(text))
    # Upstream Codex's markers, and leading whitespace, are recognised as well.
    for text in ("\n<user_shell_command>ls</user_shell_command>", "<turn_aborted>", "<skill>x"):
        assert is_injected_context(text)
        assert not is_real_user_message(user_message(text))
