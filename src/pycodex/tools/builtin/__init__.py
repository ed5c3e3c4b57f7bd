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

from pycodex._records import dataclass, field
from pycodex.tools.base import BaseTool
from pycodex.tools.builtin.apply_patch_tool import ApplyPatchFreeformTool, ApplyPatchFunctionTool
from pycodex.tools.builtin.plan import UpdatePlanTool
from pycodex.tools.builtin.shell import MinimalShellCommandTool, ShellCommandTool, ShellTool
from pycodex.tools.builtin.unified_exec import ExecCommandTool, UnifiedExecState, WriteStdinTool
from pycodex.tools.builtin.user_input import RequestUserInputTool
from pycodex.tools.builtin.view_image import ViewImageTool
from pycodex.tools.registry import ToolRegistry
from pycodex.tools.rules import PrefixRules

if TYPE_CHECKING:
    from pycodex.config import Config
    from pycodex.context.model_catalog import ModelInfo


@dataclass
class ToolServices:
    """Long-lived helpers the tools share; shut down with the engine."""

    unified_exec: UnifiedExecState = field(default_factory=UnifiedExecState)
    user_input: Any = None
    prefix_rules: PrefixRules = field(default_factory=PrefixRules)

    def as_dict(self) -> dict[str, Any]:
        services: dict[str, Any] = {
            "unified_exec": self.unified_exec,
            "prefix_rules": self.prefix_rules,
        }
        if self.user_input is not None:
            services["user_input"] = self.user_input
        return services

    async def shutdown(self) -> None:
        await self.unified_exec.shutdown()


def build_default_tools(
    config: Config, model: ModelInfo | None = None
) -> tuple[ToolRegistry, ToolServices]:
    services = ToolServices()
    features = config.features
    if model is not None and model.minimal_tools:
        minimal: list[BaseTool[Any]] = [MinimalShellCommandTool(), ApplyPatchFunctionTool()]
        return ToolRegistry(minimal), services
    tools = _shell_tools(features, model, services)
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
    tools += _optional_tools(features)
    registry = ToolRegistry(tools)
    if config.web_search == "live" and config.model_provider.wire_api == "responses":
        registry.register_hosted({"type": "web_search"})
    return registry, services


def _shell_tools(
    features: dict[str, bool], model: ModelInfo | None, services: ToolServices
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
    return [ExecCommandTool(services.unified_exec), WriteStdinTool(services.unified_exec)]


def _optional_tools(features: dict[str, bool]) -> list[BaseTool[Any]]:
    tools: list[BaseTool[Any]] = [ViewImageTool(), RequestUserInputTool()]
    if features.get("file_tools", False):
        # Loaded only when enabled: most sessions never use them, and start-up counts.
        from pycodex.tools.builtin.grep_files import GrepFilesTool
        from pycodex.tools.builtin.list_dir import ListDirTool
        from pycodex.tools.builtin.read_file import ReadFileTool

        tools += [ReadFileTool(), ListDirTool(), GrepFilesTool()]
    return tools
