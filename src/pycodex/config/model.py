"""The resolved configuration: one frozen value every other layer reads.

A `Config` is normally built by `resolve_config`; tests may build one directly, so every field
except `codex_home` and `cwd` has the default a fresh install would get.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pycodex._records import dataclass, field
from pycodex.config.agents import AgentsConfig
from pycodex.config.files import CONFIG_FILE_NAME
from pycodex.config.memories import FEATURE as MEMORIES_FEATURE
from pycodex.config.memories import MemoriesConfig
from pycodex.config.providers import OPENAI_PROVIDER, OPENAI_PROVIDER_ID, ModelProviderInfo
from pycodex.protocol.policies import (
    AskForApproval,
    SandboxMode,
    SandboxPolicy,
    ShellEnvironmentPolicy,
)

DEFAULT_MODEL = "gpt-5.1-codex"
DEFAULT_PROJECT_DOC_MAX_BYTES = 32 * 1024

REASONING_EFFORTS = ("minimal", "low", "medium", "high", "xhigh", "max", "ultra", "none")
REASONING_SUMMARIES = ("auto", "concise", "detailed", "none")
VERBOSITIES = ("low", "medium", "high")
WebSearchMode = Literal["live", "cached", "disabled"]
WEB_SEARCH_MODES: tuple[WebSearchMode, ...] = ("live", "cached", "disabled")
HistoryPersistence = Literal["save-all", "none"]
HISTORY_PERSISTENCE_MODES: tuple[HistoryPersistence, ...] = ("save-all", "none")


@dataclass(frozen=True)
class SandboxWorkspaceWrite:
    """`[sandbox_workspace_write]`: what the workspace-write sandbox adds beyond the cwd."""

    writable_roots: tuple[Path, ...] = ()
    network_access: bool = False
    exclude_tmpdir_env_var: bool = False
    exclude_slash_tmp: bool = False


@dataclass(frozen=True)
class Config:
    """Every setting after defaults, config.toml, profile, `-c` overrides and flags."""

    codex_home: Path
    cwd: Path
    model: str = DEFAULT_MODEL
    model_provider_id: str = OPENAI_PROVIDER_ID
    model_provider: ModelProviderInfo = OPENAI_PROVIDER
    # None means "not configured" (send nothing); the string "none" is a value the user chose.
    model_reasoning_effort: str | None = None
    model_reasoning_summary: str | None = None
    model_verbosity: str | None = None
    model_context_window: int | None = None
    model_auto_compact_token_limit: int | None = None
    approval_policy: AskForApproval = AskForApproval.ON_REQUEST
    sandbox_mode: SandboxMode = SandboxMode.READ_ONLY
    sandbox_workspace_write: SandboxWorkspaceWrite = field(default_factory=SandboxWorkspaceWrite)
    shell_environment_policy: ShellEnvironmentPolicy = field(default_factory=ShellEnvironmentPolicy)
    project_doc_max_bytes: int = DEFAULT_PROJECT_DOC_MAX_BYTES
    project_doc_fallback_filenames: tuple[str, ...] = ()
    project_root_markers: tuple[str, ...] = (".git",)
    model_instructions_file: Path | None = None
    developer_instructions: str | None = None
    base_instructions: str | None = None
    notify: tuple[str, ...] | None = None
    tool_output_token_limit: int | None = None
    web_search: WebSearchMode = "cached"
    # `[tools] view_image = false` (or the older `tools_view_image`, `include_view_image_tool`).
    view_image_tool: bool = True
    features: dict[str, bool] = field(default_factory=dict)
    agents: AgentsConfig = field(default_factory=AgentsConfig)
    memories: MemoriesConfig = field(default_factory=MemoriesConfig)
    mcp_servers: dict[str, Any] = field(default_factory=dict)
    # `[hooks]` as written (event groups and `state`); `pycodex.hooks` reads it when it is used.
    hooks: dict[str, Any] = field(default_factory=dict)
    # `--dangerously-bypass-hook-trust`: enabled hooks run without a trust check.
    bypass_hook_trust: bool = False
    history: dict[str, Any] = field(default_factory=dict)
    # `[history] persistence`: "none" keeps the REPL from writing $CODEX_HOME/prompt_history.
    history_persistence: HistoryPersistence = "save-all"
    hide_agent_reasoning: bool = False
    show_raw_agent_reasoning: bool = False
    additional_writable_roots: tuple[Path, ...] = ()
    profile: str | None = None
    ephemeral: bool = False
    output_schema: dict[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    # Holds API keys: kept out of repr so a logged Config never leaks them.
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def config_file(self) -> Path:
        """The main config file (it may not exist)."""
        return self.codex_home / CONFIG_FILE_NAME

    @property
    def memories_enabled(self) -> bool:
        """`[features] memories`: the memory pipeline and the summary injection (off by
        default)."""
        return self.features.get(MEMORIES_FEATURE, False)

    def sandbox_policy(self) -> SandboxPolicy:
        """The policy every spawned command runs under."""
        if self.sandbox_mode is SandboxMode.DANGER_FULL_ACCESS:
            return SandboxPolicy.full_access()
        if self.sandbox_mode is SandboxMode.READ_ONLY:
            return SandboxPolicy.read_only()
        settings = self.sandbox_workspace_write
        roots = (self.cwd, *self.additional_writable_roots, *settings.writable_roots)
        return SandboxPolicy(
            mode=SandboxMode.WORKSPACE_WRITE,
            writable_roots=tuple(dict.fromkeys(roots)),
            network_access=settings.network_access,
            exclude_tmpdir_env_var=settings.exclude_tmpdir_env_var,
            exclude_slash_tmp=settings.exclude_slash_tmp,
        )
