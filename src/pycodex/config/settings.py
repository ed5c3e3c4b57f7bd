"""Turn merged raw settings into a typed `Config`, validating every key pycodex reads."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from pycodex._records import dataclass
from pycodex.config.agents import read_agents
from pycodex.config.coerce import Reader
from pycodex.config.memories import read_memories
from pycodex.config.model import (
    DEFAULT_MODEL,
    DEFAULT_PROJECT_DOC_MAX_BYTES,
    HISTORY_PERSISTENCE_MODES,
    REASONING_EFFORTS,
    REASONING_SUMMARIES,
    VERBOSITIES,
    WEB_SEARCH_MODES,
    Config,
    HistoryPersistence,
    SandboxWorkspaceWrite,
    WebSearchMode,
)
from pycodex.config.overrides import ConfigOverrides
from pycodex.config.providers import OPENAI_PROVIDER_ID, resolve_providers
from pycodex.protocol.policies import (
    AskForApproval,
    EnvironmentInherit,
    SandboxMode,
    ShellEnvironmentPolicy,
)


@dataclass(frozen=True)
class ResolveContext:
    """What `build_config` needs besides the merged settings."""

    codex_home: Path
    cwd: Path
    # Relative paths from `-c` and flags are taken as the user's shell would: from here.
    invocation_dir: Path
    env: Mapping[str, str]
    overrides: ConfigOverrides
    profile: str | None
    warnings: tuple[str, ...]


def build_config(reader: Reader, context: ResolveContext) -> Config:
    overrides = context.overrides
    return Config(
        codex_home=context.codex_home,
        cwd=context.cwd,
        **_model_settings(reader, context.env),
        **_policy_settings(reader, context.invocation_dir),
        **_context_settings(reader, context.invocation_dir),
        **_extension_settings(reader),
        agents=read_agents(reader, context.codex_home),
        memories=read_memories(reader),
        base_instructions=overrides.base_instructions,
        additional_writable_roots=_absolute_all(
            overrides.additional_writable_roots, context.invocation_dir
        ),
        profile=context.profile,
        ephemeral=overrides.ephemeral,
        output_schema=overrides.output_schema,
        bypass_hook_trust=overrides.bypass_hook_trust,
        warnings=context.warnings,
        env=context.env,
    )


def _model_settings(reader: Reader, env: Mapping[str, str]) -> dict[str, Any]:
    providers = resolve_providers(reader, env)
    provider_id = reader.string(("model_provider",)) or OPENAI_PROVIDER_ID
    if provider_id not in providers:
        known = ", ".join(sorted(providers))
        message = f"unknown model provider {provider_id!r} (known providers: {known})"
        raise reader.error(("model_provider",), message)
    return {
        "model": reader.string(("model",)) or DEFAULT_MODEL,
        "model_provider_id": provider_id,
        "model_provider": providers[provider_id],
        "model_reasoning_effort": reader.choice(("model_reasoning_effort",), REASONING_EFFORTS),
        "model_reasoning_summary": reader.choice(("model_reasoning_summary",), REASONING_SUMMARIES),
        "model_verbosity": reader.choice(("model_verbosity",), VERBOSITIES),
        "model_context_window": reader.integer(("model_context_window",)),
        "model_auto_compact_token_limit": reader.integer(("model_auto_compact_token_limit",)),
        "hide_agent_reasoning": bool(reader.boolean(("hide_agent_reasoning",))),
        "show_raw_agent_reasoning": bool(reader.boolean(("show_raw_agent_reasoning",))),
    }


def _policy_settings(reader: Reader, invocation_dir: Path) -> dict[str, Any]:
    approval = reader.choice(("approval_policy",), [item.value for item in AskForApproval])
    sandbox = reader.choice(("sandbox_mode",), [item.value for item in SandboxMode])
    return {
        "approval_policy": AskForApproval(approval or AskForApproval.ON_REQUEST),
        "sandbox_mode": SandboxMode(sandbox or SandboxMode.READ_ONLY),
        "sandbox_workspace_write": _sandbox_workspace_write(reader, invocation_dir),
        "shell_environment_policy": _shell_environment_policy(reader),
    }


def _sandbox_workspace_write(reader: Reader, invocation_dir: Path) -> SandboxWorkspaceWrite:
    at = ("sandbox_workspace_write",)
    reader.table(at)
    return SandboxWorkspaceWrite(
        writable_roots=reader.path_list((*at, "writable_roots"), invocation_dir) or (),
        network_access=bool(reader.boolean((*at, "network_access"))),
        exclude_tmpdir_env_var=bool(reader.boolean((*at, "exclude_tmpdir_env_var"))),
        exclude_slash_tmp=bool(reader.boolean((*at, "exclude_slash_tmp"))),
    )


def _shell_environment_policy(reader: Reader) -> ShellEnvironmentPolicy:
    at = ("shell_environment_policy",)
    reader.table(at)
    inherit = reader.choice((*at, "inherit"), [item.value for item in EnvironmentInherit])
    return ShellEnvironmentPolicy(
        inherit=EnvironmentInherit(inherit or EnvironmentInherit.ALL),
        ignore_default_excludes=bool(reader.boolean((*at, "ignore_default_excludes"))),
        exclude=reader.string_list((*at, "exclude")) or (),
        include_only=reader.string_list((*at, "include_only")) or (),
        set=reader.string_map((*at, "set")) or {},
    )


def _context_settings(reader: Reader, invocation_dir: Path) -> dict[str, Any]:
    instructions_file = reader.path(("model_instructions_file",), invocation_dir)
    if instructions_file is None:
        # The key's former name; configs written for older Codex versions still carry it.
        instructions_file = reader.path(("experimental_instructions_file",), invocation_dir)
    doc_max_bytes = reader.integer(("project_doc_max_bytes",))
    markers = reader.string_list(("project_root_markers",))
    return {
        "project_doc_max_bytes": (
            DEFAULT_PROJECT_DOC_MAX_BYTES if doc_max_bytes is None else doc_max_bytes
        ),
        "project_doc_fallback_filenames": (
            reader.string_list(("project_doc_fallback_filenames",)) or ()
        ),
        "project_root_markers": (".git",) if markers is None else markers,
        "model_instructions_file": instructions_file,
        "developer_instructions": reader.string(("developer_instructions",)),
        "tool_output_token_limit": reader.integer(("tool_output_token_limit",)),
    }


def _extension_settings(reader: Reader) -> dict[str, Any]:
    features = reader.bool_map(("features",)) or {}
    return {
        "notify": reader.string_list(("notify",)),
        "features": features,
        "web_search": _web_search(reader, features),
        "view_image_tool": _legacy_flag(
            reader, ("tools", "view_image"), ("tools_view_image",), ("include_view_image_tool",)
        ),
        "mcp_servers": reader.table(("mcp_servers",)) or {},
        "hooks": reader.table(("hooks",)) or {},
        "history": reader.table(("history",)) or {},
        "history_persistence": cast(
            HistoryPersistence,
            reader.choice(("history", "persistence"), HISTORY_PERSISTENCE_MODES) or "save-all",
        ),
    }


def _web_search(reader: Reader, features: Mapping[str, bool]) -> WebSearchMode:
    explicit = reader.choice(("web_search",), WEB_SEARCH_MODES)
    if explicit is not None:
        return cast(WebSearchMode, explicit)  # `choice` checked it is one of the modes
    # Older forms: `[tools] web_search = true` (also spelled `tools_web_search` and
    # `tools_web_search_request` at the top level) and the `web_search_request` feature flag.
    for path in (("tools", "web_search"), ("tools_web_search",), ("tools_web_search_request",)):
        legacy_tool = reader.boolean(path)
        if legacy_tool is not None:
            return "live" if legacy_tool else "disabled"
    if features.get("web_search_request"):
        return "live"
    return "cached"


def _legacy_flag(reader: Reader, *paths: tuple[str, ...]) -> bool:
    """The first of `paths` that is set (the current spelling first); true when none is."""
    for path in paths:
        value = reader.boolean(path)
        if value is not None:
            return value
    return True


def _absolute_all(paths: tuple[Path, ...], base: Path) -> tuple[Path, ...]:
    return tuple(path if path.is_absolute() else base / path for path in paths)
