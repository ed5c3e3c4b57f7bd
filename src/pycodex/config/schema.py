"""Which keys a config layer may hold, and the warnings for those it may not.

Unknown keys never stop pycodex: a config written for a newer or older Codex must still start. Keys
that upstream Codex reads but pycodex does not use are accepted silently, so a user's existing
`~/.codex/config.toml` produces no noise; anything else produces one warning naming file and key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pycodex.config.coerce import describe_value
from pycodex.config.layers import KeyPath, Source
from pycodex.config.memories import ACCEPTED_KEYS as MEMORIES_ACCEPTED_KEYS
from pycodex.config.memories import HANDLED_KEYS as MEMORIES_KEYS
from pycodex.config.model import (
    HISTORY_PERSISTENCE_MODES,
    REASONING_EFFORTS,
    REASONING_SUMMARIES,
    VERBOSITIES,
    WEB_SEARCH_MODES,
)
from pycodex.config.providers import PROVIDER_KEYS, PROVIDER_KEYS_ACCEPTED
from pycodex.protocol.policies import AskForApproval, EnvironmentInherit, SandboxMode

# Keys pycodex reads (see settings.py). Tables listed in FREE_FORM_TABLES keep any content.
HANDLED_KEYS = frozenset(
    {
        "model",
        "model_provider",
        "model_providers",
        "model_reasoning_effort",
        "model_reasoning_summary",
        "model_verbosity",
        "model_context_window",
        "model_auto_compact_token_limit",
        "approval_policy",
        "sandbox_mode",
        "sandbox_workspace_write",
        "shell_environment_policy",
        "project_doc_max_bytes",
        "project_doc_fallback_filenames",
        "project_root_markers",
        "model_instructions_file",
        "experimental_instructions_file",
        "developer_instructions",
        "notify",
        "tool_output_token_limit",
        "web_search",
        "tools",
        "features",
        "agents",
        "memories",
        "mcp_servers",
        "hooks",
        "history",
        "hide_agent_reasoning",
        "show_raw_agent_reasoning",
        "openai_base_url",
        "profile",
        "profiles",
    }
)

# Upstream Codex keys that do not apply to pycodex (its UI, accounts, telemetry, platforms) or
# that other parts own: accepted without a warning.
UPSTREAM_ONLY_KEYS = frozenset(
    {
        "analytics",
        "apps",
        "check_for_update_on_startup",
        "chatgpt_base_url",
        "cli_auth_credentials_store",
        "disable_paste_burst",
        "disable_response_storage",
        "feedback",
        "file_opener",
        "forced_chatgpt_workspace_id",
        "forced_login_method",
        "instructions",
        "log_dir",
        "mcp_oauth_callback_port",
        "mcp_oauth_credentials_store",
        "notice",
        "notifications",
        "otel",
        "preferred_auth_method",
        "projects",
        "review_model",
        "sqlite_home",
        "suppress_unstable_features_warning",
        "tools_view_image",
        "tools_web_search",
        "tools_web_search_request",
        "include_view_image_tool",
        "trust_level",
        "tui",
        "use_experimental_use_rmcp_client",
        "windows",
        "windows_wsl_setup_acknowledged",
    }
)
# Keys that ask for behaviour pycodex does not have yet. Accepted (a config written for Codex still
# starts) with one warning per key and run, so nobody believes they took effect.
UNSUPPORTED_KEYS = frozenset(
    {
        "background_terminal_max_timeout",
        "commit_attribution",
        "compact_prompt",
        "ghost_snapshot",
        "include_apply_patch_tool",
        "include_plan_tool",
        "js_repl_node_path",
        "model_catalog_json",
        "model_max_output_tokens",
        "model_personality",
        "model_reasoning_summary_format",
        "model_supports_reasoning_summaries",
        "oss_provider",
        "personality",
        "plan_mode_reasoning_effort",
        "shell_snapshot",
        "show_raw_agent_reasoning",
        "skills",
        "use_experimental_streamable_shell_tool",
        "use_experimental_unified_exec_tool",
        "zsh_path",
    }
)
UNSUPPORTED_NESTED_KEYS: dict[str, frozenset[str]] = {
    "history": frozenset({"max_bytes"}),
    "shell_environment_policy": frozenset({"experimental_use_profile"}),
}
UPSTREAM_ONLY_PREFIXES = ("experimental_",)

SANDBOX_WORKSPACE_WRITE_KEYS = frozenset(
    {"writable_roots", "network_access", "exclude_tmpdir_env_var", "exclude_slash_tmp"}
)
SHELL_ENVIRONMENT_POLICY_KEYS = frozenset(
    {
        "inherit",
        "ignore_default_excludes",
        "exclude",
        "include_only",
        "set",
        "experimental_use_profile",
    }
)
# A profile holds top-level settings, but cannot select or define profiles.
PROFILE_EXCLUDED_KEYS = frozenset({"profile", "profiles"})


# Keys whose value must be one of a fixed set. Checked in every layer as it is merged, so a bad
# value is an error even when a later layer (a profile, `-c`, a flag, exec's defaults) replaces it.
ENUM_KEYS: dict[KeyPath, tuple[str, ...]] = {
    ("approval_policy",): tuple(item.value for item in AskForApproval),
    ("sandbox_mode",): tuple(item.value for item in SandboxMode),
    ("model_reasoning_effort",): REASONING_EFFORTS,
    ("model_reasoning_summary",): REASONING_SUMMARIES,
    ("model_verbosity",): VERBOSITIES,
    ("web_search",): WEB_SEARCH_MODES,
    ("shell_environment_policy", "inherit"): tuple(item.value for item in EnvironmentInherit),
    ("history", "persistence"): HISTORY_PERSISTENCE_MODES,
}


def check_enum_values(table: Mapping[str, Any], source: Source) -> None:
    """Raise `ConfigError`, naming file and key, for an enum key of the layer `table` whose value
    is not one of the allowed ones."""
    for path, allowed in ENUM_KEYS.items():
        value: Any = table
        for part in path:
            if not isinstance(value, Mapping) or part not in value:
                break
            value = value[part]
        else:
            if not (isinstance(value, str) and value in allowed):
                message = f"expected one of {', '.join(allowed)}, got {describe_value(value)}"
                raise source.error(path, message)


def unknown_key_warnings(table: Mapping[str, Any], source: Source, *, profile: bool) -> list[str]:
    """One warning per key of `table` (a whole layer) that pycodex neither reads nor tolerates."""
    warnings: list[str] = []
    for key, value in table.items():
        if (profile and key in PROFILE_EXCLUDED_KEYS) or not _is_known_top_level(key):
            warnings.append(source.unknown_key_warning((key,)))
        elif isinstance(value, Mapping):
            warnings.extend(_nested_warnings(key, value, source))
    return warnings


def _is_known_top_level(key: str) -> bool:
    return (
        key in HANDLED_KEYS
        or key in UPSTREAM_ONLY_KEYS
        or key in UNSUPPORTED_KEYS
        or key.startswith(UPSTREAM_ONLY_PREFIXES)
    )


def unsupported_key_warnings(
    table: Mapping[str, Any], source: Source, seen: set[KeyPath]
) -> list[str]:
    """One warning for each key of the layer `table` that pycodex accepts but does not act on
    yet, unless an earlier layer already warned about it (`seen` is updated)."""
    paths: list[KeyPath] = [(key,) for key in table if key in UNSUPPORTED_KEYS]
    for key, nested in UNSUPPORTED_NESTED_KEYS.items():
        value = table.get(key)
        if isinstance(value, Mapping):
            paths += [(key, inner) for inner in value if inner in nested]
    warnings: list[str] = []
    for path in paths:
        if path not in seen:
            seen.add(path)
            warnings.append(
                f"{source.where()}: '{source.dotted(path)}' is accepted but not supported yet; "
                "it has no effect"
            )
    return warnings


def _nested_warnings(key: str, value: Mapping[str, Any], source: Source) -> list[str]:
    if key == "sandbox_workspace_write":
        return _check_keys((key,), value, SANDBOX_WORKSPACE_WRITE_KEYS, source)
    if key == "shell_environment_policy":
        return _check_keys((key,), value, SHELL_ENVIRONMENT_POLICY_KEYS, source)
    if key == "memories":
        return _check_keys((key,), value, MEMORIES_KEYS | MEMORIES_ACCEPTED_KEYS, source)
    if key == "model_providers":
        allowed = PROVIDER_KEYS | PROVIDER_KEYS_ACCEPTED
        warnings: list[str] = []
        for provider_id, body in value.items():
            if isinstance(body, Mapping):
                warnings.extend(_check_keys((key, provider_id), body, allowed, source))
        return warnings
    return []


def _check_keys(
    at: KeyPath, table: Mapping[str, Any], allowed: frozenset[str], source: Source
) -> list[str]:
    return [source.unknown_key_warning((*at, key)) for key in table if key not in allowed]
