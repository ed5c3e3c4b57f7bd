"""Hooks (layer L2): the user's commands run on agent events, and the `notify` program.

Upstream Codex's contract (`../shared/HOOKS.md`): hooks are configured in `[[hooks.<Event>]]`
groups of config.toml or in `$CODEX_HOME/hooks.json`, run only when trusted (a `sha256:` hash of
the handler kept under `[hooks.state]`), get one JSON object on stdin and may answer with JSON
that blocks a tool, rewrites its input, replaces its output, adds context or continues a turn.

Modules:

- `events`      the event names, their config keys and defaults
- `discovery`   reading config.toml and hooks.json into handlers, with keys, hashes and trust
- `trust`       the trust key and hash, exactly as upstream computes them
- `matchers`    which tool names (or sources) a group's `matcher` selects
- `runner`      running handlers through the user's shell, concurrently, with timeouts
- `payloads`    the JSON each event's handlers read on stdin
- `outcomes`    what a handler's exit code and output mean for each event
- `runtime`     `HookRuntime`: one call per event, returning its effects and its problems
- `notify`      the legacy `notify` program, run after each turn
- `trust_store` writing trust into config.toml without losing the user's formatting

Nothing here is imported unless hooks or `notify` are configured: `pycodex exec` without them
never loads this package (`tests/unit/hooks/test_hooks_lazy_imports.py`).
"""
