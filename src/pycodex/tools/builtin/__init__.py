"""The built-in tools and the choice of which ones a session exposes.

Which shell tool and which apply_patch variant a model gets comes from the model catalog
(`ModelInfo.shell_tool`, `ModelInfo.apply_patch`); `[features]` flags override it for users who
want another set: `shell_tool` (the argv `shell` tool), `unified_exec = false`
(`shell_command`), `apply_patch_freeform = false` (the JSON variant), `file_tools` (read_file,
list_dir, grep_files). A model whose catalog entry sets `minimal_tools` (a small local model)
gets only a one-parameter `shell_command` and the `apply_patch` function.

Importing this package loads only what describes the tools (names, schemas, argument classes);
each tool imports its machinery (`pycodex.execution`, `pycodex.apply_patch`, approvals) when it
first runs, which keeps `pycodex exec` start-up short. `test_tools_lazy_imports` holds this.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycodex.tools.base import BaseTool
from pycodex.tools.builtin.apply_patch_tool import ApplyPatchFreeformTool, ApplyPatchFunctionTool
from pycodex.tools.builtin.plan import UpdatePlanTool
from pycodex.tools.builtin.shell import MinimalShellCommandTool, ShellCommandTool, ShellTool
from pycodex.tools.builtin.unified_exec import ExecCommandTool, UnifiedExecState, WriteStdinTool
from pycodex.tools.builtin.user_input import RequestUserInputTool
from pycodex.tools.builtin.view_image import ViewImageTool
from pycodex.tools.registry import ToolRegistry
from pycodex.tools.rules import PrefixRules
from pycodex.tools.services import ToolServices

if TYPE_CHECKING:
    from pycodex.config import Config
    from pycodex.context.model_catalog import ModelInfo


def build_default_tools(
    config: Config, model: ModelInfo | None = None
) -> tuple[ToolRegistry, ToolServices]:
    """The tools a session exposes, and their services (the caller adds the user, the rules)."""
    unified_exec = UnifiedExecState()
    features = config.features
    if model is not None and model.minimal_tools:
        minimal: list[BaseTool[Any]] = [MinimalShellCommandTool(), ApplyPatchFunctionTool()]
        return ToolRegistry(minimal), ToolServices(prefix_rules=PrefixRules())
    tools = _shell_tools(features, model, unified_exec)
    tools += _mcp_resource_tools(config)
    apply_patch = model.apply_patch if model is not None else "freeform"
    if features.get("apply_patch_freeform") is False and apply_patch == "freeform":
        apply_patch = "function"
    elif features.get("apply_patch_freeform") is True:
        apply_patch = "freeform"
    if apply_patch == "freeform":
        tools.append(ApplyPatchFreeformTool())
    elif apply_patch == "function":
        tools.append(ApplyPatchFunctionTool())
    tools.append(UpdatePlanTool())
    tools += _optional_tools(features, view_image=config.view_image_tool)
    registry = ToolRegistry(tools)
    search = web_search_spec(config, model)
    if search is not None:
        registry.register_hosted(search)
    # Session-only prefix rules until the caller loads the persisted ones.
    return registry, ToolServices(prefix_rules=PrefixRules(), unified_exec=unified_exec)


def web_search_spec(config: Config, model: ModelInfo | None) -> dict[str, Any] | None:
    """The hosted `web_search` tool, as upstream sends it, or None when it is not offered.

    `web_search = "cached"` (the default) searches the provider's cache only
    (`external_web_access: false`), `"live"` the web; `"disabled"` offers nothing. Only a
    Responses API provider runs hosted tools, and by default only for models the catalog knows;
    `"live"`, which is never the default, asks for it for any model.
    """
    mode = config.web_search
    if mode == "disabled" or config.model_provider.wire_api != "responses":
        return None
    supported = model is not None and model.known
    if not supported and mode != "live":
        return None
    spec: dict[str, Any] = {"type": "web_search", "external_web_access": mode == "live"}
    if model is not None and model.web_search_tool_type == "text_and_image":
        spec["search_content_types"] = ["text", "image"]
    return spec


def _shell_tools(
    features: dict[str, bool], model: ModelInfo | None, unified_exec: UnifiedExecState
) -> list[BaseTool[Any]]:
    choice = model.shell_tool if model is not None else "exec_command"
    if features.get("shell_tool") is True:
        choice = "shell"
    elif features.get("unified_exec") is False and choice == "exec_command":
        choice = "shell_command"
    elif features.get("unified_exec") is True:
        choice = "exec_command"
    if choice == "shell":
        return [ShellTool()]
    if choice == "shell_command":
        return [ShellCommandTool()]
    return [ExecCommandTool(unified_exec), WriteStdinTool(unified_exec)]


def _mcp_resource_tools(config: Config) -> list[BaseTool[Any]]:
    """The MCP resource tools, when MCP servers are configured (they find the running servers
    in the thread's services under `mcp`)."""
    if not any(
        isinstance(table, dict) and table.get("enabled", True) is not False
        for table in config.mcp_servers.values()
    ):
        return []
    from pycodex.mcp.resources import resource_tools

    return resource_tools()


def _optional_tools(features: dict[str, bool], *, view_image: bool) -> list[BaseTool[Any]]:
    tools: list[BaseTool[Any]] = [ViewImageTool()] if view_image else []
    tools.append(RequestUserInputTool())
    if features.get("file_tools", False):
        # Loaded only when enabled: most sessions never use them, and start-up counts.
        from pycodex.tools.builtin.grep_files import GrepFilesTool
        from pycodex.tools.builtin.list_dir import ListDirTool
        from pycodex.tools.builtin.read_file import ReadFileTool

        tools += [ReadFileTool(), ListDirTool(), GrepFilesTool()]
    return tools
