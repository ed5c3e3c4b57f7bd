"""thread/list: recorded threads, newest first, filtered and paged.

Reads only the head of each rollout (`sessions.listing`). Without `sourceKinds` only interactive
threads are listed (sources `cli` and `vscode`), as upstream does; `exec` runs and sub-agents are
listed when asked for. The cursor is the offset of the next page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pycodex.frontends.app_server.params import ListQuery
from pycodex.frontends.app_server.wire import ThreadMeta
from pycodex.sessions.listing import SessionSummary

INTERACTIVE_KINDS = ("cli", "vscode")


def list_threads(codex_home: Path, query: ListQuery) -> tuple[list[ThreadMeta], str | None]:
    from pycodex.sessions.names import thread_names

    names = thread_names(codex_home)
    metas = [
        meta
        for summary in _summaries(codex_home, query.archived)
        if _wanted(meta := _meta(summary, names.get(summary.thread_id)), summary, query)
    ]
    key = "updated_at" if query.sort_key != "created_at" else "created_at"
    metas.sort(key=lambda meta: getattr(meta, key), reverse=not query.ascending)
    page = metas[query.cursor : query.cursor + query.limit]
    more = query.cursor + query.limit < len(metas)
    return page, str(query.cursor + query.limit) if more else None


def _summaries(codex_home: Path, archived: bool) -> list[SessionSummary]:
    from pycodex.sessions.listing import list_sessions, summarize_session

    if not archived:
        return list_sessions(codex_home, None, limit=1_000_000)
    from pycodex.sessions.archive import archived_files_newest_first

    found = (summarize_session(path) for path in archived_files_newest_first(codex_home))
    return [summary for summary in found if summary is not None]


def _meta(summary: SessionSummary, name: str | None) -> ThreadMeta:
    return ThreadMeta(
        id=summary.thread_id,
        session_id=summary.session_id or summary.thread_id,
        cwd=str(summary.cwd or ""),
        created_at=int(summary.started_at.timestamp()),
        updated_at=int(summary.updated_at.timestamp()),
        model_provider=summary.model_provider or "",
        preview=summary.first_user_message,
        source=summary.source,
        cli_version=summary.cli_version or "",
        path=str(summary.path),
        originator=summary.originator,
        name=name,
    )


def _wanted(meta: ThreadMeta, summary: SessionSummary, query: ListQuery) -> bool:
    if query.cwd is not None and meta.cwd not in query.cwd:
        return False
    if query.model_providers is not None and meta.model_provider not in query.model_providers:
        return False
    if source_kind(summary.source) not in (query.source_kinds or INTERACTIVE_KINDS):
        return False
    if query.search_term:
        term = query.search_term.lower()
        return term in meta.preview.lower() or term in (meta.name or "").lower()
    return True


def source_kind(source: Any) -> str:
    """A session_meta `source` as the protocol's source kinds name it."""
    if source in ("cli", "vscode", "exec"):
        return str(source)
    if source in ("app_server", "appServer", "mcp"):
        return "appServer"
    if isinstance(source, dict) and "subagent" in source:
        spawn = source["subagent"]
        return "subAgentThreadSpawn" if isinstance(spawn, dict) else "subAgent"
    return "unknown"
