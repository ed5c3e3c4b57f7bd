"""The ContextManager: the instructions, the injected context and the conversation history.

Each request's input is the history in order: the initial context (permissions developer message,
optional developer instructions, environment context) recorded once at the start of the thread,
then the real conversation. Items are only ever appended, so every request of a thread is a
prefix-extension of the previous one and provider prompt caches keep hitting.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycodex.context.environment import EnvironmentContext, permissions_message
from pycodex.protocol.items import Message, ResponseItem, developer_message
from pycodex.protocol.policies import AskForApproval, SandboxPolicy

if TYPE_CHECKING:
    from pycodex.config import Config


def default_base_instructions() -> str:
    return resources.files("pycodex.context").joinpath("prompts/base_instructions.md").read_text(
        encoding="utf-8"
    )


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
    ) -> None:
        self.base_instructions = (
            base_instructions if base_instructions is not None else default_base_instructions()
        )
        self.cwd = cwd or Path.cwd()
        self.approval_policy = approval_policy
        self.sandbox_policy = sandbox_policy or SandboxPolicy.read_only()
        self.developer_instructions = developer_instructions
        self._history: list[ResponseItem] = list(history)
        self._environment: EnvironmentContext | None = None

    @classmethod
    def from_config(cls, config: Config) -> ContextManager:
        return cls(
            base_instructions=_base_instructions(config),
            cwd=config.cwd,
            approval_policy=config.approval_policy,
            sandbox_policy=config.sandbox_policy(),
            developer_instructions=config.developer_instructions,
        )

    @classmethod
    def from_codex_config(cls, **overrides: Any) -> ContextManager:
        from pycodex.config import ConfigOverrides, resolve_config

        return cls.from_config(resolve_config(ConfigOverrides(**overrides), env=os.environ))

    @property
    def history(self) -> list[ResponseItem]:
        return list(self._history)

    def record(self, items: Iterable[ResponseItem]) -> None:
        self._history.extend(items)

    def replace_history(self, items: Sequence[ResponseItem]) -> None:
        self._history = list(items)

    def prompt_input(self) -> list[ResponseItem]:
        return list(self._history)

    def turn_context_items(self) -> list[ResponseItem]:
        """Items to record before a turn's user message: the initial context on the first
        turn, and a new environment context whenever the environment changed."""
        environment = EnvironmentContext.capture(
            self.cwd, self.approval_policy, self.sandbox_policy, os.environ.get("SHELL")
        )
        if self._environment is not None and environment == self._environment:
            return []
        first = self._environment is None and not self._history
        self._environment = environment
        items: list[ResponseItem] = []
        if first:
            items.append(permissions_message(self.approval_policy, self.sandbox_policy))
            if self.developer_instructions:
                items.append(developer_message(self.developer_instructions))
        if first or not _same_as_last_environment(self._history, environment):
            items.append(environment.to_message())
        return items


def _same_as_last_environment(history: Sequence[ResponseItem], env: EnvironmentContext) -> bool:
    text = env.to_message().text
    for item in reversed(history):
        if isinstance(item, Message) and item.role == "user":
            if item.text.startswith("<environment_context>"):
                return item.text == text
    return False


def _base_instructions(config: Config) -> str:
    if config.base_instructions is not None:
        return config.base_instructions
    if config.model_instructions_file is not None:
        return config.model_instructions_file.read_text(encoding="utf-8", errors="replace")
    return default_base_instructions()
