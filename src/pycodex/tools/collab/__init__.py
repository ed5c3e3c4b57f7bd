"""The sub-agent (multi-agent v1) tools and the control protocol they call.

Importing this package loads only the tool descriptions; the thread manager that implements
`AgentControl` lives in `pycodex.agent.threads`.
"""

from pycodex.tools.collab.control import (
    THREAD_LIMIT_MESSAGE,
    AgentControl,
    AgentControlError,
    SpawnedAgent,
    SpawnRequest,
    WaitResult,
)
from pycodex.tools.collab.tools import NAMESPACE, multi_agent_namespace

__all__ = [
    "NAMESPACE",
    "THREAD_LIMIT_MESSAGE",
    "AgentControl",
    "AgentControlError",
    "SpawnRequest",
    "SpawnedAgent",
    "WaitResult",
    "multi_agent_namespace",
]
