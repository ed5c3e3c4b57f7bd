"""pycodex: a Python implementation of the Codex coding agent.

The library API is imported lazily, so `import pycodex` (and `pycodex --help`) stays cheap:

    from pycodex import AgentLoop, BaseTool, ToolRegistry, ContextManager, ResponsesModelClient

No `from __future__ import annotations` here, in `pycodex.cli` or in `pycodex.cli.main`: those
three are all `pycodex --version` loads (docs/performance.md).
"""

from pycodex._lazy import lazy_attributes
from pycodex._version import __version__

# Not `typing.TYPE_CHECKING`: importing `typing` would cost `pycodex --version` ~9 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pycodex.agent.loop import AgentLoop
    from pycodex.agent.turn import TurnResult
    from pycodex.client.responses import ResponsesModelClient
    from pycodex.context.manager import ContextManager
    from pycodex.tools.base import BaseTool, ToolContext, ToolError, ToolOutput
    from pycodex.tools.registry import ToolRegistry

_EXPORTS = {
    "AgentLoop": "pycodex.agent.loop",
    "TurnResult": "pycodex.agent.turn",
    "ResponsesModelClient": "pycodex.client.responses",
    "ContextManager": "pycodex.context.manager",
    "BaseTool": "pycodex.tools.base",
    "ToolContext": "pycodex.tools.base",
    "ToolError": "pycodex.tools.base",
    "ToolOutput": "pycodex.tools.base",
    "ToolRegistry": "pycodex.tools.registry",
}

__all__ = [
    "AgentLoop",
    "BaseTool",
    "ContextManager",
    "ResponsesModelClient",
    "ToolContext",
    "ToolError",
    "ToolOutput",
    "ToolRegistry",
    "TurnResult",
    "__version__",
]

__getattr__ = lazy_attributes(__name__, _EXPORTS)
