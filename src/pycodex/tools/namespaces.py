"""Tool namespaces and the client-run `tool_search` that reveals deferred ones.

A namespace groups function tools under one name and description (`multi_agent_v1`, later one
per MCP server). It is advertised as `{"type": "namespace", "name", "description", "tools"}`;
the model calls a member with a `function_call` carrying `namespace` and `name`.

A *deferred* namespace is not listed up front when the model supports tool search: the request
carries the `tool_search` tool instead, plus a developer note naming the deferred namespaces.
A `tool_search_call` is answered with what matches the query best (BM25), functions marked
`defer_loading: true`: a whole namespace matched on its name and description, or, for a
namespace with `search_members` (an MCP server's), each function matched on its own (name,
description, argument names, plus the namespace's name and description) and returned alone in
its namespace; `limit` counts those matches. The call and its output stay in history, so the
model keeps the definitions for the rest of the thread.

Another provider of tools (MCP) only builds `ToolNamespace` objects and registers them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pycodex._records import dataclass, field, replace
from pycodex.tools.base import BaseTool

TOOL_SEARCH_NAME = "tool_search"
DEFAULT_SEARCH_LIMIT = 8

_TOOL_SEARCH_DESCRIPTION = (
    "Look up tool namespaces that are available but not loaded yet (the developer message "
    "lists them by name). Give a few keywords; the matching namespaces come back with their "
    "function definitions, which you can call from then on."
)

_TOOL_SEARCH_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "description": "Keywords naming the capability you need."},
        "limit": {
            "type": "number",
            "description": f"Most namespaces to return (default {DEFAULT_SEARCH_LIMIT}).",
        },
    },
    "required": ["query"],
    "additionalProperties": False,
}


@dataclass
class ToolNamespace:
    """A named group of function tools; `deferred` ones hide behind tool_search when possible."""

    name: str
    description: str
    tools: list[BaseTool[Any]] = field(default_factory=list)
    deferred: bool = True
    # tool_search matches each member on its own and returns only the members that matched.
    search_members: bool = False

    def get(self, name: str) -> BaseTool[Any] | None:
        for tool in self.tools:
            if tool.name == name:
                return tool
        return None

    def spec(self, *, defer_loading: bool = False) -> dict[str, Any]:
        members = []
        for tool in self.tools:
            member = tool.spec()
            if defer_loading:
                member["defer_loading"] = True
            members.append(member)
        return {
            "type": "namespace",
            "name": self.name,
            "description": self.description,
            "tools": members,
        }

    def search_text(self) -> str:
        return f"{self.name} {self.description}"


def tool_search_spec() -> dict[str, Any]:
    return {
        "type": TOOL_SEARCH_NAME,
        "execution": "client",
        "description": _TOOL_SEARCH_DESCRIPTION,
        "parameters": _TOOL_SEARCH_PARAMETERS,
    }


def deferred_note(namespaces: Sequence[ToolNamespace], heading: str) -> str:
    """The developer note listing namespaces by name (`heading` says what happened to them)."""
    lines = [f"- {namespace.name}: {namespace.description}" for namespace in namespaces]
    return "<tools>\n" + heading + ":\n" + "\n".join(lines) + "\n</tools>"


def search_namespaces(
    namespaces: Sequence[ToolNamespace], query: str, limit: int
) -> list[ToolNamespace]:
    """What matches `query` best, by BM25, as namespaces: at most `limit` matches, each a whole
    namespace or (`search_members`) one member of it; members found in the same namespace come
    back together, in the namespace's order. A query that matches no word returns nothing.
    """
    if limit <= 0 or not namespaces:
        return []
    entries: list[tuple[ToolNamespace, BaseTool[Any] | None]] = []
    for namespace in namespaces:
        if namespace.search_members:
            entries += [(namespace, tool) for tool in namespace.tools]
        else:
            entries.append((namespace, None))
    documents = [_words(_entry_text(namespace, tool)) for namespace, tool in entries]
    scores = bm25_scores(documents, _words(query))
    ranked = sorted(
        (index for index, score in enumerate(scores) if score > 0),
        key=lambda index: (-scores[index], index),
    )
    found: dict[str, list[BaseTool[Any]] | None] = {}
    for index in ranked[:limit]:
        namespace, tool = entries[index]
        members = found.setdefault(namespace.name, [] if tool is not None else None)
        if members is not None and tool is not None:
            members.append(tool)
    by_name = {namespace.name: namespace for namespace in namespaces}
    return [_narrowed(by_name[name], members) for name, members in found.items()]


def _entry_text(namespace: ToolNamespace, tool: BaseTool[Any] | None) -> str:
    return namespace.search_text() + (" " + tool.search_text() if tool is not None else "")


def _narrowed(namespace: ToolNamespace, members: list[BaseTool[Any]] | None) -> ToolNamespace:
    if members is None:
        return namespace
    kept = [tool for tool in namespace.tools if any(tool is member for member in members)]
    return replace(namespace, tools=kept)


def bm25_scores(
    documents: Sequence[Sequence[str]], query: Sequence[str], k1: float = 1.2, b: float = 0.75
) -> list[float]:
    """Okapi BM25 score of each document (a list of words) for the query words."""
    count = len(documents)
    average = sum(len(document) for document in documents) / count if count else 0.0
    frequency = Counter(word for document in documents for word in set(document))
    scores: list[float] = []
    for document in documents:
        terms = Counter(document)
        score = 0.0
        for word in set(query):
            seen = terms.get(word, 0)
            if not seen:
                continue
            idf = math.log(1 + (count - frequency[word] + 0.5) / (frequency[word] + 0.5))
            norm = 1 - b + b * (len(document) / average if average else 0.0)
            score += idf * seen * (k1 + 1) / (seen + k1 * norm)
        scores.append(score)
    return scores


_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    """Lower-case words; `multi_agent_v1` gives `multi`, `agent`, `v1` and the whole name."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    words += [token for token in re.findall(r"[a-z0-9_]+", lowered) if "_" in token]
    return words
