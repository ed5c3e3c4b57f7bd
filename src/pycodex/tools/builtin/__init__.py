"""The built-in tools and the choice of which ones a session exposes.

Which shell tool and which apply_patch variant a model gets is decided here from `[features]`
(`unified_exec`, `shell_command`, `apply_patch_freeform`, `file_tools`); the model catalog will
take this over (issue 5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pycodex.tools.base import BaseTool
from pycodex.tools.builtin.apply_patch_tool import ApplyPatchFreeformTool, ApplyPatchFunctionTool
from pycodex.tools.builtin.grep_files import GrepFilesTool
from pycodex.tools.builtin.list_dir import ListDirTool
from pycodex.tools.builtin.plan import UpdatePlanTool
from pycodex.tools.builtin.read_file import ReadFileTool
from pycodex.tools.builtin.shell import ShellCommandTool, ShellTool
from pycodex.tools.builtin.unified_exec import ExecCommandTool, UnifiedExecState, WriteStdinTool
from pycodex.tools.builtin.user_input import RequestUserInputTool
from pycodex.tools.builtin.view_image import ViewImageTool
from pycodex.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from pycodex.config import Config


@dataclass
class ToolServices:
    """Long-lived helpers the tools share; shut down with the engine."""

    unified_exec: UnifiedExecState = field(default_factory=UnifiedExecState)
    user_input: Any = None

    def as_dict(self) -> dict[str, Any]:
        services: dict[str, Any] = {"unified_exec": self.unified_exec}
        if self.user_input is not None:
            services["user_input"] = self.user_input
        return services

    async def shutdown(self) -> None:
        await self.unified_exec.processes.shutdown()


def build_default_tools(config: Config) -> tuple[ToolRegistry, ToolServices]:
    services = ToolServices()
    features = config.features
    tools: list[BaseTool[Any]] = []
    if features.get("shell_tool") is True:
        tools.append(ShellTool())
    elif features.get("unified_exec", True):
        tools += [ExecCommandTool(services.unified_exec), WriteStdinTool(services.unified_exec)]
    else:
        tools.append(ShellCommandTool())
    if features.get("apply_patch_freeform", True):
        tools.append(ApplyPatchFreeformTool())
    else:
        tools.append(ApplyPatchFunctionTool())
    tools.append(UpdatePlanTool())
    tools += _optional_tools(features)
    registry = ToolRegistry(tools)
    if config.web_search == "live" and config.model_provider.wire_api == "responses":
        registry.register_hosted({"type": "web_search"})
    return registry, services


def _optional_tools(features: dict[str, bool]) -> list[BaseTool[Any]]:
    tools: list[BaseTool[Any]] = [ViewImageTool(), RequestUserInputTool()]
    if features.get("file_tools", False):
        tools += [ReadFileTool(), ListDirTool(), GrepFilesTool()]
    return tools
