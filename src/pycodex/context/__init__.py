"""What the model sees (layer L2): base instructions, initial context messages and the conversation
history.

Modules:

- `manager`        `ContextManager`: history, the initial context and what each turn adds to it
- `model_catalog`  `ModelInfo`, the packaged `models.json` and `resolve_model_info(config)`
- `agents_md`      AGENTS.md discovery and the user-instructions message
- `skills`         SKILL.md discovery, front matter parsing and the skills list
- `environment`    the `<environment_context>` message
- `permissions`    the permissions and collaboration-mode developer sections
- `prompt_files`   the packaged prompts under `prompts/` and the base-instructions precedence
- `tokens`         a cheap token estimate

Nothing runs at import time; files are read when a manager is built from a config.
"""
