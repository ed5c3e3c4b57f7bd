"""Provider kinds: the one table of per-server adjustments to a Chat Completions request.

Servers that speak Chat Completions disagree on details: OpenAI accepts the `developer` role and
wants `max_completion_tokens`; most chat templates of local servers (vLLM, llama.cpp, Ollama) know
only `system` and read `max_tokens`; only some render replayed reasoning, and they name the field
differently. The configured provider kind (`[model_providers.<id>]`) picks a row; the adjustments
are applied only when the downstream request body is built, never to the stored history.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from pycodex._records import dataclass


@dataclass(frozen=True, slots=True)
class ProviderKind:
    name: str
    developer_role: Literal["developer", "system"]
    """The role `developer` messages are sent with."""
    reasoning_replay_field: str | None
    """The assistant-message field that carries replayed reasoning; None drops it."""
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"]
    merge_leading_system: bool
    """Join the system messages before the first other message into one: many chat templates
    honour only a single system message at the very start."""


PROVIDER_KINDS: Mapping[str, ProviderKind] = MappingProxyType(
    {
        kind.name: kind
        for kind in (
            ProviderKind("openai", "developer", None, "max_completion_tokens", False),
            ProviderKind("vllm", "system", "reasoning_content", "max_tokens", True),
            ProviderKind("llamacpp", "system", "reasoning_content", "max_tokens", True),
            ProviderKind("ollama", "system", "reasoning", "max_tokens", True),
            ProviderKind("generic", "system", None, "max_tokens", True),
        )
    }
)

DEFAULT_PROVIDER_KIND = PROVIDER_KINDS["generic"]


def provider_kind(name: str | None) -> ProviderKind:
    """The row for a configured kind; `llama.cpp`, `llama_cpp` and `LlamaCpp` all name one row.

    Raises ValueError naming the known kinds, so configuration can report the bad value.
    """
    if name is None:
        return DEFAULT_PROVIDER_KIND
    normalized = "".join(ch for ch in name.lower() if ch.isalnum())
    kind = PROVIDER_KINDS.get(normalized)
    if kind is None:
        known = ", ".join(PROVIDER_KINDS)
        raise ValueError(f"unknown provider kind {name!r} (known: {known})")
    return kind
