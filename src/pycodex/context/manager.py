"""The ContextManager: the instructions, the injected context and the conversation history.

Each request's input is the history in order. The first turn of a thread records the initial
context before the user's message:

0. with memories on and a summary written, a developer message holding the memory summary
   (`context/memory_summary.py`);
1. a developer message: permissions, `developer_instructions`, the collaboration mode (when not
   the default) and the skills list;
2. a user message: the AGENTS.md instructions and the `<environment_context>`.

Later turns record only what changed since: a new permissions or collaboration-mode developer
message, a new environment context. Items are only ever appended, so every request of a thread is
a prefix-extension of the previous one and provider prompt caches keep hitting. What is current is
read back from history itself, so the same rules hold after a resume or `replace_history()`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycodex.context.agents_md import (
    InstructionDiscovery,
    discover_instruction_files,
    render_instructions,
)
from pycodex.context.environment import ENVIRONMENT_TAG, EnvironmentContext
from pycodex.context.model_catalog import ModelInfo, resolve_model_info
from pycodex.context.permissions import (
    COLLABORATION_MODES,
    COLLABORATION_TAG,
    PERMISSIONS_TAG,
    CollaborationMode,
    collaboration_mode_text,
    permissions_text,
)
from pycodex.context.prompt_files import default_base_instructions, resolve_base_instructions
from pycodex.context.skills import Skill, discover_skills, render_skills, skill_roots
from pycodex.protocol.items import InputText, Message, ResponseItem
from pycodex.protocol.policies import AskForApproval, SandboxPolicy

if TYPE_CHECKING:
    from pycodex.config import Config

__all__ = ["ContextManager", "default_base_instructions"]


class ContextManager:
    """Holds what the model sees; the engine appends, the client reads."""

    def __init__(
        self,
        *,
        base_instructions: str | None = None,
        cwd: Path | None = None,
        approval_policy: AskForApproval = AskForApproval.NEVER,
        sandbox_policy: SandboxPolicy | None = None,
        developer_instructions: str | None = None,
        history: Sequence[ResponseItem] = (),
        collaboration_mode: CollaborationMode = "default",
        agents_md: InstructionDiscovery | None = None,
        skills: Sequence[Skill] = (),
        model_info: ModelInfo | None = None,
        shell: str | None = None,
        warnings: Sequence[str] = (),
        today: Callable[[], date] = date.today,
        memory_message: str | None = None,
    ) -> None:
        self.base_instructions = (
            base_instructions if base_instructions is not None else default_base_instructions()
        )
        self.cwd = cwd or Path.cwd()
        self.approval_policy = approval_policy
        self.sandbox_policy = sandbox_policy or SandboxPolicy.read_only()
        self.developer_instructions = developer_instructions
        self.collaboration_mode = collaboration_mode
        self.agents_md = agents_md or InstructionDiscovery((), (), ())
        self.skills: tuple[Skill, ...] = tuple(skills)
        self.model_info = model_info
        self.shell = shell
        # Problems found while building the context (unreadable files, bad catalog entries);
        # the CLI prints them, the context is built regardless.
        self.warnings: list[str] = list(warnings)
        self._today = today
        self._history: list[ResponseItem] = list(history)
        # A developer note about tools (the deferred tool namespaces), set by whoever builds the
        # thread's tools; part of the initial context.
        self.tools_note: str | None = None
        # The memory summary message (None: memories off, unused, or no summary yet).
        self.memory_message = memory_message

    @classmethod
    def from_config(
        cls, config: Config, *, today: Callable[[], date] = date.today
    ) -> ContextManager:
        """Everything the model sees for `config`: files are read once, here.

        `today` supplies the date of the environment context (tests pin it)."""
        model_info, warnings = resolve_model_info(config)
        base, base_warnings = resolve_base_instructions(
            configured_text=config.base_instructions,
            configured_file=config.model_instructions_file,
            catalog_file=model_info.instructions_file,
        )
        agents_md = discover_instruction_files(config)
        skills = discover_skills(skill_roots(config))
        memory_message = None
        if config.memories_enabled:  # the module is only loaded for those who use memories
            from pycodex.context.memory_summary import memory_message_text

            memory_message = memory_message_text(config)
        return cls(
            base_instructions=base,
            cwd=config.cwd,
            approval_policy=config.approval_policy,
            sandbox_policy=config.sandbox_policy(),
            developer_instructions=config.developer_instructions,
            agents_md=agents_md,
            skills=skills.skills,
            model_info=model_info,
            shell=config.env.get("SHELL"),
            warnings=[*warnings, *base_warnings, *agents_md.warnings, *skills.warnings],
            today=today,
            memory_message=memory_message,
        )

    @classmethod
    def from_codex_config(cls, **overrides: Any) -> ContextManager:
        from pycodex.config import ConfigOverrides, resolve_config

        return cls.from_config(resolve_config(ConfigOverrides(**overrides), env=os.environ))

    # --- the collaboration mode ------------------------------------------------------------

    @property
    def collaboration_mode(self) -> CollaborationMode:
        """`default` or `plan`; a change takes effect (and is announced) at the next turn."""
        return self._collaboration_mode

    @collaboration_mode.setter
    def collaboration_mode(self, mode: CollaborationMode) -> None:
        if mode not in COLLABORATION_MODES:
            raise ValueError(f"unknown collaboration mode {mode!r}; expected default or plan")
        self._collaboration_mode = mode

    # --- history ---------------------------------------------------------------------------

    @property
    def history(self) -> list[ResponseItem]:
        return list(self._history)

    def record(self, items: Iterable[ResponseItem]) -> None:
        self._history.extend(items)

    def replace_history(self, items: Sequence[ResponseItem]) -> None:
        self._history = list(items)

    def prompt_input(self) -> list[ResponseItem]:
        return list(self._history)

    # --- injected context ------------------------------------------------------------------

    def environment(self) -> EnvironmentContext:
        """The environment as it is now."""
        shell = self.shell if self.shell is not None else os.environ.get("SHELL")
        return EnvironmentContext.capture(
            self.cwd, self.approval_policy, self.sandbox_policy, shell, self._today()
        )

    @property
    def user_instructions(self) -> str | None:
        """The AGENTS.md message text, or None when no instruction file applies."""
        return render_instructions(self.agents_md, self.cwd)

    def initial_context_items(self) -> list[ResponseItem]:
        """The messages that open a thread (also what compaction puts back in front)."""
        developer = [permissions_text(self.approval_policy, self.sandbox_policy)]
        if self.developer_instructions:
            developer.append(self.developer_instructions)
        if self.collaboration_mode != "default":
            developer.append(collaboration_mode_text(self.collaboration_mode))
        skills = render_skills(self.skills)
        if skills is not None:
            developer.append(skills)
        if self.tools_note:
            developer.append(self.tools_note)
        user = [self.user_instructions, self.environment().to_text()]
        items: list[ResponseItem] = [
            _message("developer", developer),
            _message("user", [u for u in user if u]),
        ]
        if self.memory_message is not None:
            items.insert(0, _message("developer", [self.memory_message]))
        return items

    def turn_context_items(self) -> list[ResponseItem]:
        """Items to record before a turn's user message: the initial context on the first
        turn; afterwards only sections whose current text differs from their last one in
        history (nothing at all when nothing changed)."""
        if not self._history:
            return self.initial_context_items()
        developer: list[str] = []
        permissions = permissions_text(self.approval_policy, self.sandbox_policy)
        if _last_section(self._history, "developer", PERMISSIONS_TAG) != permissions:
            developer.append(permissions)
        mode = collaboration_mode_text(self.collaboration_mode)
        announced = _last_section(self._history, "developer", COLLABORATION_TAG)
        if announced != mode and (announced is not None or self.collaboration_mode != "default"):
            developer.append(mode)
        items: list[ResponseItem] = [_message("developer", developer)] if developer else []
        environment = self.environment().to_text()
        if _last_section(self._history, "user", ENVIRONMENT_TAG) != environment:
            items.append(_message("user", [environment]))
        return items


def _message(role: str, sections: Sequence[str]) -> Message:
    return Message(role=role, content=[InputText(text=text) for text in sections])


def _last_section(history: Sequence[ResponseItem], role: str, tag: str) -> str | None:
    """The newest text part of a `role` message that starts with `tag`."""
    for item in reversed(history):
        if not isinstance(item, Message) or item.role != role:
            continue
        for part in reversed(item.content):
            if isinstance(part, InputText) and part.text.startswith(tag):
                return part.text
    return None
