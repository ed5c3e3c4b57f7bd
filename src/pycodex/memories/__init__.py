"""Memories (layer L3, above `agent/`): learning from past sessions.

A background pipeline mines finished interactive sessions and keeps a memory folder,
`$CODEX_HOME/memories_v2/`, whose `memory_summary.md` later sessions are given
(`context/memory_summary.py` does the giving). See docs/memories.md.

- `layout`: the paths of the memory folder, its database and its lock.
- `store`: the SQLite store (`memories_v2.sqlite`): leased jobs, retries, stage-one outputs.
- `scan`: which session files are eligible (interactive, idle, recent, not mined yet).
- `redact`, `render`: the old conversation as stage one sees it, secrets removed.
- `stage_one`: one structured-output request per session -> a rollout summary file.
- `workspace`: the folder's git baseline, the rollout summaries synced from the store, the diff.
- `consolidation`: the confined agent thread that rewrites `memory_summary.md`, and the checks
  its result must pass.
- `pipeline`: both phases under the folder's lock; `background`: starting it from a session
  without delaying it; `clear`: `pycodex debug clear-memories`.

Nothing here is imported unless `[features] memories` is on or a `memories` command runs.
"""
